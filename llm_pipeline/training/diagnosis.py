"""Read a learning curve the way a practitioner would: underfit, overfit or well-fit.

The reasoning, in the order the rules are applied:

1. Too few points say nothing: with fewer than `MIN_TRAIN_POINTS` training losses or
   `MIN_EVAL_POINTS` validation losses the verdict is "insufficient data".
2. Diverged (reported as underfit): the training loss ended higher than it started; the
   validation loss rising with it says nothing about overfitting.
3. Overfit: the validation loss reached a minimum and then climbed back by more than
   `OVERFIT_RISE` of that minimum by the end. The model kept fitting the training set after it
   stopped generalising; the checkpoint at `best_step` is the one to keep (or train for that
   many steps). It is checked before underfitting because a falling training loss with a
   rising validation loss is overfitting, however steep the training curve still is.
4. Underfit: the training loss barely moved (it dropped by less than `FLAT_DROP` of its starting
   level: learning rate too low, too few steps, or a model that cannot learn the data), or it
   was still falling steeply at the end (over the last third of training a straight-line fit
   drops by more than `STILL_FALLING_DROP` of its level: more steps would still help).
5. Overfit as well: both losses settled but validation ended more than `GAP_RATIO` above
   training: the model memorised what it saw.
6. Otherwise well-fit: the training loss fell and flattened, and validation stayed close to it
   without turning up.

All comparisons are relative to the loss level, so they hold for any vocabulary size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from llm_pipeline.training.curve import CurvePoint

# Fewer points than this cannot show a trend, let alone its end.
MIN_TRAIN_POINTS = 3
# A minimum and a later rise need at least two validation points.
MIN_EVAL_POINTS = 2
# Step-to-step noise of a validation loss on a small split is a percent or two; a rise of more
# than 3% above the minimum is a real turn, not noise.
OVERFIT_RISE = 0.03
# A run that learned anything lowers its training loss by far more than 5%; less is "flat".
FLAT_DROP = 0.05
# A converged run changes by a few percent over its last third; a drop of more than 10% of the
# level there means the curve was still going down when training stopped.
STILL_FALLING_DROP = 0.10
# Validation settling more than 25% above training is memorisation even without a rise.
GAP_RATIO = 0.25

UNDERFIT = "underfit"
OVERFIT = "overfit"
WELL_FIT = "well-fit"
INSUFFICIENT = "insufficient data"
DIVERGED = "diverged"


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    best_step: int | None = None
    best_eval_loss: float | None = None
    final_train_loss: float | None = None
    final_eval_loss: float | None = None
    gap: float | None = None
    """final validation loss minus final training loss."""


def diagnose(curve: Sequence[CurvePoint]) -> Diagnosis:
    """Classify a learning curve; every verdict comes with reasons in plain words and numbers."""
    train = [(p.step, p.train_loss) for p in curve if p.train_loss is not None]
    evals = [(p.step, p.eval_loss) for p in curve if p.eval_loss is not None]
    final_train = train[-1][1] if train else None
    final_eval = evals[-1][1] if evals else None
    best_step, best_eval = min(evals, key=lambda point: point[1]) if evals else (None, None)
    gap = final_eval - final_train if (final_train is not None and final_eval is not None) else None
    summary = dict(
        best_step=best_step, best_eval_loss=best_eval, final_train_loss=final_train, final_eval_loss=final_eval, gap=gap
    )

    non_finite = [
        (kind, step, loss)
        for kind, points in (("training", train), ("validation", evals))
        for step, loss in points
        if not math.isfinite(loss)
    ]
    if non_finite:
        kind, step, loss = non_finite[0]
        return Diagnosis(
            DIVERGED,
            [
                f"the {kind} loss is {loss} at step {step}: the model's weights are no longer numbers",
                "lower the learning rate, lengthen the warmup or clip gradients (max_grad_norm)",
            ],
            **summary,
        )

    if len(train) < MIN_TRAIN_POINTS or len(evals) < MIN_EVAL_POINTS:
        return Diagnosis(
            INSUFFICIENT,
            [
                f"the curve has {len(train)} training and {len(evals)} validation points; at least "
                f"{MIN_TRAIN_POINTS} and {MIN_EVAL_POINTS} are needed (log and evaluate more often, "
                "or train for more steps)"
            ],
            **summary,
        )

    losses = [loss for _, loss in train]
    window = max(1, len(losses) // 5)
    start_level = sum(losses[:window]) / window
    end_level = sum(losses[-window:]) / window
    total_drop = (start_level - end_level) / start_level if start_level > 0 else 0.0
    if total_drop < 0:
        return Diagnosis(
            UNDERFIT,
            [
                f"training loss rose from {start_level:.4f} to {end_level:.4f} ({-total_drop:.1%} higher): "
                "training diverged",
                "lower the learning rate or lengthen the warmup",
            ],
            **summary,
        )

    rise = (final_eval - best_eval) / best_eval if best_eval > 0 else 0.0
    if best_step != evals[-1][0] and rise > OVERFIT_RISE:
        return Diagnosis(
            OVERFIT,
            [
                f"validation loss reached its minimum {best_eval:.4f} at step {best_step} and then rose "
                f"{rise:.1%} to {final_eval:.4f} at step {evals[-1][0]}",
                f"training loss kept going to {final_train:.4f}; keep the checkpoint at step {best_step} "
                "or train for fewer steps, with more data or more regularisation",
            ],
            **summary,
        )

    if total_drop < FLAT_DROP:
        return Diagnosis(
            UNDERFIT,
            [
                f"training loss barely moved: {start_level:.4f} at the start, {end_level:.4f} at the end "
                f"({total_drop:.1%} lower, under {FLAT_DROP:.0%})",
                "raise the learning rate, train longer, or use a larger model / more adapter capacity",
            ],
            **summary,
        )

    tail_drop = _tail_relative_drop(train)
    if tail_drop > STILL_FALLING_DROP:
        return Diagnosis(
            UNDERFIT,
            [
                f"training loss was still falling at the end: over the last third of training it dropped "
                f"{tail_drop:.1%} of its level (more than {STILL_FALLING_DROP:.0%}), ending at {final_train:.4f}",
                f"validation loss ended at {final_eval:.4f}, its best being {best_eval:.4f} at step {best_step}; "
                "train for more steps",
            ],
            **summary,
        )

    gap_ratio = gap / final_train if final_train > 0 else 0.0
    if gap_ratio > GAP_RATIO:
        return Diagnosis(
            OVERFIT,
            [
                f"validation loss settled at {final_eval:.4f}, {gap_ratio:.0%} above the training loss "
                f"{final_train:.4f} (more than {GAP_RATIO:.0%}): the model fits what it saw much better than "
                "what it did not",
                "use more or more varied data, fewer steps, or more regularisation",
            ],
            **summary,
        )

    return Diagnosis(
        WELL_FIT,
        [
            f"training loss fell {total_drop:.1%} and flattened (last third: {tail_drop:.1%} of its level)",
            f"validation loss ended at {final_eval:.4f}, within {rise:.1%} of its best {best_eval:.4f} "
            f"(step {best_step}), {gap:+.4f} from the training loss",
        ],
        **summary,
    )


def _tail_relative_drop(points: Sequence[tuple[int, float]]) -> float:
    """How much a straight line through the last third of the curve falls, relative to its level.

    A least-squares slope uses every point of the tail, so one noisy logging step cannot make a
    flat curve look like it is falling (or the reverse), unlike comparing two single points.
    """
    tail = points[-max(MIN_TRAIN_POINTS, len(points) // 3) :]
    steps = [float(step) for step, _ in tail]
    losses = [loss for _, loss in tail]
    mean_step = sum(steps) / len(steps)
    mean_loss = sum(losses) / len(losses)
    spread = sum((s - mean_step) ** 2 for s in steps)
    if spread == 0 or mean_loss <= 0:
        return 0.0
    slope = sum((s - mean_step) * (loss - mean_loss) for s, loss in zip(steps, losses, strict=False)) / spread
    return -slope * (steps[-1] - steps[0]) / mean_loss
