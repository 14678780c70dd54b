"""Progress as one line a person reads: work done of the total, the loss, rates and the time left.

    step 20 of 60 (33%) · loss 5.1234 · lr 2.90e-03 · 1,234 tokens/s · elapsed 0:00:12 · ETA 0:00:24
    encoded 1,234 of 5,000 records (24%) · 812 records/s · elapsed 0:00:01 · ETA 0:00:05

Formatting only: the callers (the trainer's callback, the tokenizer's loop) measure the time and
count the work, so the lines are the same for the same numbers and tests need no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SEPARATOR = " · "
NOT_YET = "—"
"""Shown for a time that cannot be estimated yet (no work finished in this process)."""

# Trainer log keys shown on a training line, in this order, with how each value is written.
_TRAINING_VALUES = (
    ("loss", "loss {:.4f}"),
    ("eval_loss", "eval_loss {:.4f}"),
    ("train_loss", "average loss {:.4f}"),  # the Trainer's closing summary of the whole run
    ("learning_rate", "lr {:.2e}"),
    ("grad_norm", "grad_norm {:.3g}"),
)


def format_duration(seconds: float | None) -> str:
    """H:MM:SS (hours go past 24); NOT_YET when the time is not known."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return NOT_YET
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def seconds_left(done_here: float, left: float, elapsed_s: float | None) -> float | None:
    """The time `left` more units take at the pace `done_here` units took `elapsed_s`; None without a pace.

    `done_here` counts only the work of this process: after a resume, the steps restored from
    a checkpoint took no time here and must not speed up the estimate.
    """
    if elapsed_s is None or elapsed_s <= 0 or done_here <= 0:
        return None
    return max(left, 0) * elapsed_s / done_here


def training_progress_line(
    step: int,
    max_steps: int = 0,
    logs: Mapping[str, Any] | None = None,
    *,
    elapsed_s: float | None = None,
    start_step: int = 0,
    tokens_since_start: int | None = None,
    tokens_include_padding: bool = False,
) -> str:
    """One Trainer log as a line: step of max_steps, the logged values, tokens/s, elapsed and ETA.

    `elapsed_s` and `tokens_since_start` count from the start of this process' training, which
    began at `start_step` (0, or the step of the checkpoint it resumed from). `max_steps` 0 or
    less means the total is unknown: no percent and no ETA. Missing log values are left out.
    """
    logs = logs or {}
    parts = [f"step {_of_total(step, max_steps)}"]
    if logs.get("resumed_from"):
        parts.append(f"resumed from {logs['resumed_from']}")
    parts.extend(
        template.format(logs[key]) for key, template in _TRAINING_VALUES if isinstance(logs.get(key), (int, float))
    )
    tokens_per_s = _per_second(tokens_since_start, elapsed_s)
    if tokens_per_s is not None:
        parts.append(f"{_format_rate(tokens_per_s)} tokens/s" + (" (incl. padding)" if tokens_include_padding else ""))
    parts.extend(_time_parts(step - start_step, max_steps - step if max_steps > 0 else None, elapsed_s))
    return SEPARATOR.join(parts)


def count_progress_line(done: int, total: int, elapsed_s: float | None, *, verb: str, noun: str) -> str:
    """`verb done of total noun (pct%)`, the rate, elapsed and ETA: progress through a known amount of work."""
    parts = [f"{verb} {_of_total(done, total, noun)}"]
    rate = _per_second(done, elapsed_s)
    if rate is not None:
        parts.append(f"{_format_rate(rate)} {noun}/s")
    parts.extend(_time_parts(done, total - done if total > 0 else None, elapsed_s))
    return SEPARATOR.join(parts)


def _of_total(done: int, total: int, unit: str = "") -> str:
    """'20 of 60 (33%)', the percent rounded down so that 100% means finished; '20' without a total."""
    suffix = f" {unit}" if unit else ""
    if total <= 0:
        return f"{done:,}{suffix}"
    return f"{done:,} of {total:,}{suffix} ({min(100, 100 * done // total)}%)"


def _time_parts(done_here: float, left: float | None, elapsed_s: float | None) -> list[str]:
    """'elapsed H:MM:SS' and, when the amount left is known, 'ETA H:MM:SS' (NOT_YET before a pace)."""
    if elapsed_s is None:
        return []
    parts = [f"elapsed {format_duration(elapsed_s)}"]
    if left is not None:
        parts.append(f"ETA {format_duration(seconds_left(done_here, left, elapsed_s))}")
    return parts


def _per_second(count: float | None, elapsed_s: float | None) -> float | None:
    if count is None or count <= 0 or elapsed_s is None or elapsed_s <= 0:
        return None
    return count / elapsed_s


def _format_rate(rate: float) -> str:
    """Whole numbers with thousands separators; two significant digits below 10 (0.25, 3.5)."""
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"
