"""The learning curve: training and validation loss per optimizer step, and the learning rate
they were trained at, from a Trainer log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CurvePoint:
    step: int
    train_loss: float | None = None
    eval_loss: float | None = None
    learning_rate: float | None = None  # logged with the training loss

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, point: Mapping[str, Any]) -> CurvePoint:
        """A point as `to_dict` wrote it (a loss absent or None when not logged at that step)."""
        return cls(point["step"], point.get("train_loss"), point.get("eval_loss"), point.get("learning_rate"))


def curve_from_log_history(log_history: Iterable[Mapping[str, Any]]) -> list[CurvePoint]:
    """Merge the Trainer's per-step `loss` and `eval_loss` entries into one point per step.

    `log_history` is `trainer.state.log_history`: train entries carry `loss`, evaluation entries
    `eval_loss`, and the closing summary `train_loss` (an average over the whole run, which is
    not a point of the curve and is skipped). A later entry for the same step wins.
    """
    train: dict[int, float] = {}
    evals: dict[int, float] = {}
    rates: dict[int, float] = {}
    for entry in log_history:
        if "step" not in entry:
            continue
        step = int(entry["step"])
        if "loss" in entry:
            train[step] = float(entry["loss"])
            if "learning_rate" in entry:
                rates[step] = float(entry["learning_rate"])
        if "eval_loss" in entry:
            evals[step] = float(entry["eval_loss"])
    steps = sorted(train.keys() | evals.keys())
    return [CurvePoint(step, train.get(step), evals.get(step), rates.get(step)) for step in steps]
