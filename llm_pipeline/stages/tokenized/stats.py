"""Token-length statistics of the tokenized splits, for the asset's metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

import datasets
import numpy as np

from llm_pipeline.stages.tokenized.chat_template import REASON_NOT_PREFIX_STABLE, REASON_TEMPLATE_FAILED
from llm_pipeline.stages.tokenized.encode import (
    REASON_NO_TURN_FITS,
    REASON_PROMPT_TOO_LONG,
    REASON_RECORD_TOO_LONG,
    REASON_RESPONSE_TOO_LONG,
)
from llm_pipeline.token_rows import IGNORE_INDEX


@dataclass(frozen=True)
class SplitStats:
    records_in: int
    kept: int
    truncated: int
    """Kept records cut short by a limit (a cut response loses its EOS too: see `_cut_response`)."""
    dropped_too_long: int
    dropped_no_target: int
    rows: int
    """Rows the trainer sees: packed rows, or one per record."""
    tokens: int
    """Real (non-pad) tokens in the rows."""
    target_tokens: int
    """Tokens whose label enters the loss."""
    pad_fraction: float
    """Share of padding if every row is padded to `max_length` (what fixed-shape batching costs)."""
    # Token lengths of the kept records, before any cut (0 when nothing was kept).
    min_tokens: int
    mean_tokens: float
    max_tokens: int
    p95_tokens: float
    length_histogram: list[tuple[str, int]] = field(default_factory=list)
    """(bucket, records): power-of-two buckets of record length up to `max_length`, then "> max_length"."""
    dropped_template: int = 0
    """Records the chat template could not render, or not prefix-stably (chat_template.py)."""


def length_histogram(lengths: np.ndarray, max_length: int) -> list[tuple[str, int]]:
    """Counts of record lengths in power-of-two buckets up to `max_length` ("<= 16", ...), and "> max_length"."""
    bounds = [2**k for k in range(4, 32) if 2**k < max_length] + [max_length]
    edges = [0, *[bound + 1 for bound in bounds], max(int(lengths.max(initial=0)), max_length) + 2]
    counts = np.histogram(lengths, bins=edges)[0].tolist()
    return [(f"<= {bound}", count) for bound, count in zip(bounds, counts, strict=False)] + [
        (f"> {max_length}", counts[-1])
    ]


def count_tokens(rows: datasets.Dataset) -> tuple[int, int]:
    """(real tokens, tokens whose label enters the loss) over all rows, counted in Arrow."""
    import pyarrow.compute as pc

    if len(rows) == 0:
        return 0, 0
    labels = rows.select_columns(["labels"]).with_format("arrow")[:]["labels"]
    tokens = int(pc.sum(pc.list_value_length(labels)).as_py() or 0)
    learned = int(pc.sum(pc.not_equal(pc.list_flatten(labels), IGNORE_INDEX)).as_py() or 0)
    first_learned = int(pc.sum(pc.not_equal(pc.list_element(labels, 0), IGNORE_INDEX)).as_py() or 0)
    return tokens, learned - first_learned  # the label at position 0 is never predicted


def split_stats(
    records_in: int,
    lengths: np.ndarray,
    dropped_reasons: list[str],
    truncated: int,
    rows: int,
    row_tokens: tuple[int, int],
    max_length: int,
) -> SplitStats:
    too_long = sum(1 for reason in dropped_reasons if reason in _TOO_LONG_REASONS)
    template = sum(1 for reason in dropped_reasons if reason in _TEMPLATE_REASONS)
    no_target = len(dropped_reasons) - too_long - template
    tokens, targets = row_tokens
    pad_fraction = 1.0 - tokens / (rows * max_length) if rows else 0.0
    if lengths.size == 0:
        return SplitStats(
            records_in,
            0,
            truncated,
            too_long,
            no_target,
            rows,
            tokens,
            targets,
            pad_fraction,
            0,
            0.0,
            0,
            0.0,
            dropped_template=template,
        )
    return SplitStats(
        records_in=records_in,
        kept=int(lengths.size),
        truncated=truncated,
        dropped_too_long=too_long,
        dropped_no_target=no_target,
        rows=rows,
        tokens=tokens,
        target_tokens=targets,
        pad_fraction=pad_fraction,
        min_tokens=int(lengths.min()),
        mean_tokens=float(lengths.mean()),
        max_tokens=int(lengths.max()),
        p95_tokens=float(np.percentile(lengths, 95)),
        length_histogram=length_histogram(lengths, max_length),
        dropped_template=template,
    )


_TOO_LONG_REASONS = {REASON_PROMPT_TOO_LONG, REASON_RESPONSE_TOO_LONG, REASON_RECORD_TOO_LONG, REASON_NO_TURN_FITS}
_TEMPLATE_REASONS = {REASON_TEMPLATE_FAILED, REASON_NOT_PREFIX_STABLE}
