"""Synthetic learning curves of known shape, with seeded noise: what the diagnosis is judged on.

Each kind is drawn like a Trainer log: a training loss every 10 steps over 300 steps, a
validation loss every 30. Noise is multiplicative and Gaussian (a 2% noise is a standard
deviation of 2% of the loss), the way a small validation split scatters.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from llm_pipeline.training.curve import CurvePoint

STEPS = range(10, 310, 10)
EVAL_EVERY = 30


def _curve(train: Callable[[int], float], evaluate: Callable[[int], float], seed: int, noise: float,
           train_noise: float = 0.01) -> list[CurvePoint]:  # fmt: skip
    rng = random.Random(seed)
    points = []
    for step in STEPS:
        train_loss = train(step) * (1 + rng.gauss(0, train_noise))
        eval_loss = evaluate(step) * (1 + rng.gauss(0, noise)) if step % EVAL_EVERY == 0 else None
        points.append(CurvePoint(step, train_loss, eval_loss))
    return points


def well_fit(seed: int, noise: float = 0.02) -> list[CurvePoint]:
    """Both losses fall and flatten, validation a little above training."""
    return _curve(lambda s: 1.0 + 3.0 * math.exp(-s / 40), lambda s: 1.08 + 3.0 * math.exp(-s / 40), seed, noise)


def overfit(seed: int, noise: float = 0.02) -> list[CurvePoint]:
    """Training keeps falling; validation bottoms out at step 120 and climbs 30% by the end."""
    return _curve(lambda s: 0.2 + 3.0 * math.exp(-s / 60), lambda s: 1.5 + 0.45 * ((s - 120) / 180) ** 2 * 2.2,
                  seed, noise)  # fmt: skip


def memorised(seed: int, noise: float = 0.02) -> list[CurvePoint]:
    """Training falls to almost nothing (0.028 at the end, still halving over the last third);
    validation stays flat at 2.0."""
    return _curve(lambda s: 0.015 + 3.0 * math.exp(-s / 55), lambda s: 2.0, seed, noise)


def underfit_flat(seed: int, noise: float = 0.02) -> list[CurvePoint]:
    """Training barely moves: 5.0 to 4.85."""
    return _curve(lambda s: 5.0 - 0.0005 * s, lambda s: 5.1 - 0.0005 * s, seed, noise)


def still_falling(seed: int, noise: float = 0.02) -> list[CurvePoint]:
    """Training falls in a straight line to the last step: more steps would help."""
    return _curve(lambda s: 6.0 - 0.012 * s, lambda s: 6.1 - 0.012 * s, seed, noise)


def unstable(seed: int, noise: float = 0.02) -> list[CurvePoint]:
    """A falling trend under ±30% swings from one log to the next: a learning rate too high."""
    rng = random.Random(seed + 10_000)
    swings = {step: 1 + 0.3 * rng.choice((-1, 1)) * rng.uniform(0.5, 1.0) for step in STEPS}
    return _curve(lambda s: (1.5 + 2.0 * math.exp(-s / 60)) * swings[s],
                  lambda s: (1.6 + 2.0 * math.exp(-s / 60)) * swings[s], seed, noise)  # fmt: skip


KINDS: dict[str, Callable[..., list[CurvePoint]]] = {
    "well-fit": well_fit,
    "overfit": overfit,
    "memorised": memorised,
    "underfit (flat)": underfit_flat,
    "underfit (still falling)": still_falling,
    "unstable": unstable,
}
