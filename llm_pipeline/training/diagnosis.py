"""Read a learning curve the way a practitioner would: underfit, overfit, unstable or well-fit.

Single points are noisy (a small validation split scatters by a few percent from one
evaluation to the next), so the rules judge smoothed levels and compare a change with the
curve's own noise, estimated from how far each point lies from its neighbours. In order:

1. Not numbers: a NaN or infinite loss is "diverged".
2. Too few points say nothing: with fewer than `MIN_TRAIN_POINTS` training losses or
   `MIN_EVAL_POINTS` validation losses the verdict is "insufficient data".
3. Training loss rising from start to end (reported as underfit): training diverged.
4. Unstable: the training loss swings around its own trend by more than `UNSTABLE_SWING` of its
   level from one log to the next, the sign of a learning rate too high: lower it.
5. Underfit: the training loss barely moved (it dropped by less than `FLAT_DROP` of its starting
   level): nothing was learned, whatever the validation loss does.
6. Overfit: the smoothed validation loss reached a minimum and then climbed back by more than
   `OVERFIT_RISE` of it, and by more than `NOISE_MARGIN` times its noise, by the end. The
   checkpoint at `best_step` is the one to keep.
7. Memorised (overfit): training ended far below validation (more than `GAP_RATIO` of the
   training loss) while validation no longer falls (by less than `STILL_FALLING_DROP` over its
   last third). It is checked before "still falling": a training loss racing to zero next to a
   flat validation loss needs more data, not more steps.
8. Underfit: the training loss was still falling steeply at the end (a straight line through
   its last third drops by more than `STILL_FALLING_DROP` of its level): more steps would help.
9. Overfit as well: both losses settled but validation ended more than `GAP_RATIO` above
   training.
10. Otherwise well-fit: the training loss fell and flattened, and validation stayed close to it
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
# A rise above the smoothed minimum counts only past this many times the validation noise: the
# smallest of several noisy points sits below the curve by chance.
NOISE_MARGIN = 3.0
# Healthy training logs scatter by a few percent around their trend; swings of more than 10%
# of the level from one log to the next are a learning rate too high.
UNSTABLE_SWING = 0.10

UNDERFIT = "underfit"
OVERFIT = "overfit"
WELL_FIT = "well-fit"
INSUFFICIENT = "insufficient data"
DIVERGED = "diverged"
UNSTABLE = "unstable"
VERDICTS = (WELL_FIT, OVERFIT, UNDERFIT, UNSTABLE, DIVERGED, INSUFFICIENT)


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

    swing = relative_noise(losses)
    if swing > UNSTABLE_SWING:
        return Diagnosis(
            UNSTABLE,
            [
                f"training loss swings {swing:.0%} of its level around its trend from one log to the next "
                f"(more than {UNSTABLE_SWING:.0%}): the optimiser overshoots",
                "unstable: lower the learning rate (or lengthen the warmup, clip gradients with max_grad_norm)",
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

    eval_losses = [loss for _, loss in evals]
    # Too few evaluations to smooth: neighbours would blur the very turn that is looked for.
    smoothed = moving_average(eval_losses) if len(eval_losses) >= 4 else eval_losses
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    eval_noise = relative_noise(eval_losses)
    rise = (smoothed[-1] - smoothed[lowest]) / smoothed[lowest] if smoothed[lowest] > 0 else 0.0
    needed = max(OVERFIT_RISE, NOISE_MARGIN * eval_noise)
    if lowest < len(smoothed) - 1 and rise > needed:
        return Diagnosis(
            OVERFIT,
            [
                f"validation loss reached its minimum {best_eval:.4f} at step {best_step}; smoothed over "
                f"neighbouring evaluations it then rose {rise:.1%} (more than {needed:.1%}, the noise allowed) "
                f"to {final_eval:.4f} at step {evals[-1][0]}",
                f"training loss kept going to {final_train:.4f}; keep the checkpoint at step {best_step} "
                "or train for fewer steps, with more data or more regularisation",
            ],
            **summary,
        )

    gap_ratio = (smoothed[-1] - end_level) / end_level if end_level > 0 else 0.0
    eval_tail_drop = _tail_relative_drop(evals)
    if gap_ratio > GAP_RATIO and eval_tail_drop < max(STILL_FALLING_DROP, NOISE_MARGIN * eval_noise):
        return Diagnosis(
            OVERFIT,
            [
                f"training loss fell to {final_train:.4f} while validation no longer falls (last third: "
                f"{eval_tail_drop:+.1%} of its level) and sits at {smoothed[-1]:.4f}, {gap_ratio:.0%} above "
                "training: the model memorises what it saw",
                "use more or more varied data, fewer steps, or more regularisation (weight decay, dropout)",
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

    if gap_ratio > GAP_RATIO:
        return Diagnosis(
            OVERFIT,
            [
                f"validation loss settled at {smoothed[-1]:.4f}, {gap_ratio:.0%} above the training loss "
                f"{end_level:.4f} (more than {GAP_RATIO:.0%}): the model fits what it saw much better than "
                "what it did not",
                "use more or more varied data, fewer steps, or more regularisation",
            ],
            **summary,
        )

    return Diagnosis(
        WELL_FIT,
        [
            f"training loss fell {total_drop:.1%} and flattened (last third: {tail_drop:.1%} of its level)",
            f"validation loss ended at {final_eval:.4f} (smoothed {smoothed[-1]:.4f}, within {rise:.1%} of its "
            f"smoothed minimum; best point {best_eval:.4f} at step {best_step}), {gap:+.4f} from the training loss",
        ],
        **summary,
    )


def moving_average(values: Sequence[float]) -> list[float]:
    """Each value averaged with its neighbours (the two ends with their one neighbour)."""
    return [sum(values[max(0, i - 1) : i + 2]) / len(values[max(0, i - 1) : i + 2]) for i in range(len(values))]


def relative_noise(values: Sequence[float]) -> float:
    """The scatter of a curve around its own trend, relative to its level: each inner point against
    the mean of its two neighbours (a smooth trend cancels out, white noise of deviation s leaves a
    deviation of s * sqrt(1.5)). 0 with fewer than four points."""
    if len(values) < 4:
        return 0.0
    residuals = [values[i] - (values[i - 1] + values[i + 1]) / 2 for i in range(1, len(values) - 1)]
    mean = sum(residuals) / len(residuals)
    spread = math.sqrt(sum((r - mean) ** 2 for r in residuals) / (len(residuals) - 1))
    level = sum(values) / len(values)
    return spread / math.sqrt(1.5) / level if level > 0 else 0.0


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
