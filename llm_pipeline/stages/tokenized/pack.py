"""Packing: records of one split laid into rows of at most `max_length` tokens, none attending to another.

Unsupervised texts are concatenated and cut into full blocks (a long text continues in the next
block instead of being cut off); supervised records, and what is left of the texts, are packed
whole by best-fit decreasing. Inside a row every piece of a record starts again at position 0
(`position_ids`): with no attention mask, transformers then builds a block-diagonal causal mask,
so no token attends to, or is predicted from, another record. The label at the first token of
every piece is masked for the same reason.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Sequence

import datasets
import numpy as np
import pyarrow as pa

from llm_pipeline.stages.tokenized.encode import (
    LENGTH_COLUMN,
    ROW_FEATURES,
    TEXT_COLUMN,
    column_values,
    list_array,
)
from llm_pipeline.token_rows import IGNORE_INDEX, ROW_ID_SEPARATOR, ROW_SOURCE_SEPARATOR

PACKED_FEATURES = datasets.Features({**ROW_FEATURES, "position_ids": datasets.List(datasets.Value("int32"))})


_PLAN_FEATURES = datasets.Features(
    {name: datasets.List(datasets.Value("int64")) for name in ("record", "start", "end")}
)


Piece = tuple[int, int, int]
"""(record index, first token, end token) of a slice of one record."""


def plan_rows(lengths: Sequence[int], is_text: Sequence[bool], max_length: int) -> list[list[Piece]]:
    """Lay records into rows of at most `max_length` tokens.

    Texts, in order, are concatenated and cut into full rows; their remainder and every other
    record (each at most `max_length` long) are packed whole by best-fit decreasing: the
    longest first, each into the fullest row it still fits in. Deterministic for given input.
    """
    rows: list[list[Piece]] = []
    items: list[list[Piece]] = []
    block: list[Piece] = []
    used = 0
    for index, length in enumerate(lengths):
        if not is_text[index]:
            if length > max_length:
                raise ValueError(f"record {index} has {length} tokens, more than max_length {max_length}")
            items.append([(index, 0, length)])
            continue
        start = 0
        while start < length:
            take = min(length - start, max_length - used)
            block.append((index, start, start + take))
            start += take
            used += take
            if used == max_length:
                rows.append(block)
                block, used = [], 0
    if block:
        items.append(block)

    def size(item: list[Piece]) -> int:
        return sum(end - start for _, start, end in item)

    items.sort(key=size, reverse=True)  # stable: equal sizes keep their order
    packed: list[list[Piece]] = []
    free: list[tuple[int, int]] = []  # (room left, row number), sorted
    for item in items:
        need = size(item)
        at = bisect.bisect_left(free, (need, -1))
        if at == len(free):
            packed.append(list(item))
            room, row = max_length - need, len(packed) - 1
        else:
            room, row = free.pop(at)
            packed[row].extend(item)
            room -= need
        if room > 0:
            bisect.insort(free, (room, row))
    return rows + packed


def pack(encoded: datasets.Dataset, max_length: int, num_proc: int = 1) -> datasets.Dataset:
    """Build the packed rows of one split from its encoded records (see `plan_rows`)."""
    plan = plan_rows(column_values(encoded, LENGTH_COLUMN), column_values(encoded, TEXT_COLUMN), max_length)
    plan_dataset = datasets.Dataset.from_dict(
        {
            "record": [[piece[0] for piece in row] for row in plan],
            "start": [[piece[1] for piece in row] for row in plan],
            "end": [[piece[2] for piece in row] for row in plan],
        },
        features=_PLAN_FEATURES,
    )
    if len(plan_dataset) == 0:
        return datasets.Dataset.from_dict({column: [] for column in PACKED_FEATURES}, features=PACKED_FEATURES)
    rows = plan_dataset.with_format("arrow").map(
        _RowBuilder(encoded.select_columns(["id", "source", "input_ids", "labels"])),
        batched=True,
        num_proc=num_proc if num_proc > 1 and len(plan_dataset) >= num_proc else None,
        remove_columns=plan_dataset.column_names,
        features=PACKED_FEATURES,
        desc="pack",
        new_fingerprint=uuid.uuid4().hex,
    )
    # A row holding only a 1-token continuation has no usable label; it carries nothing to learn.
    rows = rows.with_format(None)
    useful = _rows_with_targets(rows)
    return rows if useful.all() else rows.select(np.flatnonzero(useful))


def _rows_with_targets(rows: datasets.Dataset) -> np.ndarray:
    """Per row: whether a label after its first token enters the loss (counted in Arrow)."""
    import pyarrow.compute as pc

    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    labels = pc.list_slice(rows.select_columns(["labels"]).with_format("arrow")[:]["labels"], 1)
    learned = pc.not_equal(pc.list_flatten(labels), IGNORE_INDEX).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(labels).to_numpy()
    return np.bincount(parents[learned], minlength=len(rows)) > 0


class _RowBuilder:
    """Concatenates the planned pieces of each row; position ids and labels restart per piece.

    Works on Arrow tables and numpy index arithmetic: a batch of rows is one gather from the
    records' token arrays, with no Python list per token.
    """

    def __init__(self, records: datasets.Dataset) -> None:
        self.records = records.with_format("arrow")

    def __call__(self, batch: pa.Table) -> pa.Table:
        plan = batch.column("record").combine_chunks()
        piece_record = plan.values.to_numpy()
        pieces_per_row = np.diff(plan.offsets.to_numpy())
        piece_start = batch.column("start").combine_chunks().values.to_numpy()
        piece_length = batch.column("end").combine_chunks().values.to_numpy() - piece_start
        needed, local = np.unique(piece_record, return_inverse=True)
        fetched = self.records[needed.tolist()]
        tokens = fetched.column("input_ids").combine_chunks()
        labels = fetched.column("labels").combine_chunks()
        # Where each piece's tokens sit in the records' flat arrays, and where they go in the rows'.
        source_start = tokens.offsets.to_numpy()[local] + piece_start
        target_start = np.cumsum(piece_length) - piece_length
        total = int(piece_length.sum())
        gather = np.repeat(source_start - target_start, piece_length) + np.arange(total)
        row_ids = tokens.values.to_numpy()[gather]
        row_labels = labels.values.to_numpy()[gather].copy()
        # The first token of a piece would be predicted from the previous record's last one.
        row_labels[target_start] = IGNORE_INDEX
        positions = (np.arange(total) - np.repeat(target_start, piece_length)).astype(np.int32)
        row_of_piece = np.repeat(np.arange(len(pieces_per_row)), pieces_per_row)
        row_lengths = np.bincount(row_of_piece, weights=piece_length, minlength=len(pieces_per_row)).astype(np.int64)
        record_ids = fetched.column("id").to_pylist()
        record_sources = fetched.column("source").to_pylist()
        joined_ids, joined_sources = [], []
        first = 0
        for count in pieces_per_row.tolist():
            members = list(dict.fromkeys(local[first : first + count].tolist()))  # a continued text once
            joined_ids.append(ROW_ID_SEPARATOR.join(record_ids[member] for member in members))
            joined_sources.append(ROW_SOURCE_SEPARATOR.join(record_sources[member] for member in members))
            first += count
        columns = {
            "id": pa.array(joined_ids, pa.string()),
            "source": pa.array(joined_sources, pa.string()),
            "input_ids": list_array(row_ids, row_lengths),
            "attention_mask": list_array(np.ones(total, dtype=np.int8), row_lengths),
            "labels": list_array(row_labels, row_lengths),
            "position_ids": list_array(positions, row_lengths),
        }
        return pa.table(columns, schema=PACKED_FEATURES.arrow_schema)
