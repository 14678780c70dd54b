"""Validators behind the asset checks: plain functions over stage outputs."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from llm_pipeline.records import Record, content_id
from llm_pipeline.setting import setting
from llm_pipeline.stages.filtered.dedup import BandIndex, MinHasher, NearDuplicateSettings
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.storage.fingerprint import settings_fingerprint
from llm_pipeline.storage.row_cache import KEY, RowCache
from llm_pipeline.text import normalize, shingles
from llm_pipeline.token_rows import IGNORE_INDEX, ROW_ID_SEPARATOR

# How many ids or pairs a finding lists; the counts cover all of them.
EXAMPLES = 5


def shared_prompts(train: Iterable[Record], validation: Iterable[Record]) -> list[str]:
    """Normalized prompts present on both sides: any one means validation loss is optimistic."""
    train_prompts = {normalize(record.prompt) for record in train}
    return sorted({prompt for record in validation if (prompt := normalize(record.prompt)) in train_prompts})


# --- near-duplicate prompts ----------------------------------------------------------------


@dataclass(frozen=True)
class NearDuplicateCheckSettings:
    """Near-duplicate prompts across the train / validation split."""

    threshold: float = setting(
        0.8,
        "Jaccard similarity of the prompts' character 5-gram sets (the near-duplicate filter's shingles: "
        "case folded, punctuation dropped) from which a validation prompt counts as a near duplicate of a "
        "training prompt.",
    )
    num_perm: int = setting(128, "MinHash permutations of the LSH index that proposes candidate pairs.")

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.num_perm < 1:
            raise ValueError(f"num_perm must be a positive integer, got {self.num_perm}")


def jaccard(left: set, right: set) -> float:
    return len(left & right) / len(left | right) if left or right else 1.0


@dataclass(frozen=True)
class NearDuplicate:
    validation_id: str
    train_id: str
    similarity: float
    validation_prompt: str
    train_prompt: str


def near_duplicate_prompts(
    train: Sequence[Record],
    validation: Iterable[Record],
    threshold: float = 0.8,
    num_perm: int = 128,
    cache: RowCache | None = None,
) -> list[NearDuplicate]:
    """Validation records whose prompt is at least `threshold` similar to a training prompt.

    MinHash LSH finds candidate pairs without comparing every pair; each candidate is then
    confirmed with the exact Jaccard similarity of the shingle sets, so the answer does not
    depend on the hashing's estimation error. One pair (the most similar) per validation record.
    With a `cache` (from `prompt_signature_cache`), unchanged prompts are not hashed again.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    sign = _PromptSigner(num_perm, cache)
    # The index only proposes candidates; above about 0.9 datasketch cannot band the signature,
    # so it proposes from 0.9 and the exact comparison below applies the real threshold.
    index = BandIndex(num_perm, min(threshold, 0.9))
    for position, record in enumerate(train):
        signature = sign(record.prompt)
        if signature is not None:
            index.insert(position, signature)
    found = []
    for record in validation:
        signature = sign(record.prompt)  # None: no shingles (punctuation only); the exact check covers it
        candidates = index.candidates(signature) if signature is not None else []
        if not candidates:
            continue
        own = sign.shingles(record.prompt)
        best = max((jaccard(own, sign.shingles(train[position].prompt)), position) for position in candidates)
        if best[0] >= threshold:
            match = train[best[1]]
            found.append(NearDuplicate(record.id, match.id, round(best[0], 4), record.prompt, match.prompt))
    return sorted(found, key=lambda pair: -pair.similarity)


PROMPT_SIGNATURE_SCHEMA = pa.schema([(KEY, pa.string()), ("signature", pa.binary())])


def prompt_signature_cache(folder: Path, num_perm: int) -> RowCache:
    """MinHash signatures of prompts kept between runs, for `near_duplicate_prompts`."""
    fingerprint = settings_fingerprint(num_perm, code_fingerprint(__name__, libraries=("datasketch", "numpy")))
    return RowCache(folder, fingerprint, PROMPT_SIGNATURE_SCHEMA)


class _PromptSigner:
    def __init__(self, num_perm: int, cache: RowCache | None) -> None:
        self._hasher = MinHasher(NearDuplicateSettings(num_perm=num_perm))
        self._cache = cache

    def shingles(self, prompt: str) -> set[bytes]:
        return shingles(prompt, self._hasher.settings.shingle_chars)

    def __call__(self, prompt: str) -> np.ndarray | None:
        """The prompt's signature, hashed as near-duplicate removal hashes texts; None without shingles."""
        key = content_id(prompt)
        row = self._cache.get(key) if self._cache is not None else None
        if row is not None:
            return np.frombuffer(row["signature"], dtype=np.uint32)
        signature = self._hasher.signature(prompt)
        if signature is not None and self._cache is not None:
            self._cache.put(key, {"signature": signature.tobytes()})
        return signature


# --- conservation of records ---------------------------------------------------------------


@dataclass(frozen=True)
class IdBalance:
    """Whether every record that entered a stage left it exactly once: kept, or removed with a reason.

    Ids are content hashes, so duplicates share one; the comparison is of multisets.
    """

    records_in: int
    kept: int
    removed: int
    missing: list[str] = field(default_factory=list)  # entered, never came out
    unexpected: list[str] = field(default_factory=list)  # came out, never entered

    @property
    def balanced(self) -> bool:
        return not self.missing and not self.unexpected and self.records_in == self.kept + self.removed


def id_balance(
    upstream: Iterable[str], kept: Iterable[str], removed: Iterable[str], kept_once: bool = False
) -> IdBalance:
    """`kept_once`: the kept ids are a set, as read back from packed rows (a record may span
    rows, and copies of one record cannot be told apart there); each stands for every copy of it."""
    entered, out_removed = Counter(upstream), Counter(removed)
    if kept_once:
        out_kept = Counter({record_id: entered.get(record_id, 1) for record_id in set(kept)})
    else:
        out_kept = Counter(kept)
    came_out = out_kept + out_removed
    return IdBalance(
        records_in=sum(entered.values()),
        kept=sum(out_kept.values()),
        removed=sum(out_removed.values()),
        missing=sorted((entered - came_out).elements()),
        unexpected=sorted((came_out - entered).elements()),
    )


@dataclass(frozen=True)
class DroppedShareSettings:
    """How much of the data the filters may drop."""

    max_dropped_share: float = setting(
        0.5,
        "Largest share of records the filters may drop; more usually means a filter is misconfigured, not that "
        "the data is that bad.",
    )
    count_duplicates: bool = setting(
        False,
        "Count removed duplicates as dropped too (by default they are not: one copy of their content is kept).",
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_dropped_share <= 1.0:
            raise ValueError(f"max_dropped_share must be in [0, 1], got {self.max_dropped_share}")


DUPLICATE_SUFFIX = "_duplicate"  # exact_duplicate, near_duplicate: one copy of the content is kept


def dropped_share(records_in: int, reasons: Iterable[str], count_duplicates: bool = False) -> float:
    """The share of records a stage dropped, by default leaving out removed duplicates: their
    content is still in the dataset once, so a corpus full of copies is not "mostly lost"."""
    dropped = sum(1 for reason in reasons if count_duplicates or not reason.split(":")[0].endswith(DUPLICATE_SUFFIX))
    return dropped / records_in if records_in else 0.0


# --- tokenized labels ------------------------------------------------------------------------


def records_without_targets(split: datasets.Dataset) -> list[str]:
    """Ids of the records in a tokenized split none of whose labels enter the loss: they would
    train on nothing, silently.

    Counted per record, not per row: in a packed row (`position_ids` restarting at 0 where a
    record's piece begins) a record with every label masked can sit beside others that have
    targets; a text continued over several rows counts the labels of all its pieces. The label
    at the first token of a piece is never predicted, so it does not count.
    """
    table = split.with_format("arrow")[:]
    if len(table) == 0:
        return []
    labels = table.column("labels").combine_chunks()
    flat_labels = pc.list_flatten(labels).to_numpy(zero_copy_only=False)
    row_of_token = pc.list_parent_indices(labels).to_numpy()
    if "position_ids" in table.column_names:
        starts = pc.list_flatten(table.column("position_ids").combine_chunks()).to_numpy(zero_copy_only=False) == 0
    else:
        starts = np.zeros(flat_labels.size, dtype=bool)
    row_lengths = pc.list_value_length(labels).to_numpy(zero_copy_only=False)
    first_of_row = np.cumsum(row_lengths) - row_lengths
    starts[first_of_row[row_lengths > 0]] = True  # every row begins a piece
    piece_of_token = np.cumsum(starts) - 1
    learned = (flat_labels != IGNORE_INDEX) & ~starts
    learned_per_piece = np.bincount(piece_of_token[learned], minlength=int(starts.sum()))
    pieces_per_row = np.bincount(row_of_token[starts], minlength=len(table))
    learned_per_record: dict[str, int] = {}
    piece = 0
    for row_id, count in zip(table.column("id").to_pylist(), pieces_per_row.tolist(), strict=False):
        members = row_id.split(ROW_ID_SEPARATOR)
        if len(members) == count:
            totals = learned_per_piece[piece : piece + count].tolist()
        else:  # not laid out by our packer: judge the row as one unit
            members, totals = [row_id], [int(learned_per_piece[piece : piece + count].sum())]
        for member, total in zip(members, totals, strict=False):
            learned_per_record[member] = learned_per_record.get(member, 0) + total
        piece += count
    return [record for record, total in learned_per_record.items() if total == 0]


@dataclass(frozen=True)
class LabelReport:
    """Rows of a tokenized split that would crash or silently mislead training, by kind of fault."""

    rows: int
    length_mismatch: list[str]  # input_ids, attention_mask and labels of different lengths
    token_out_of_range: list[str]  # an input id outside [0, vocab_size)
    label_out_of_range: list[str]  # a label neither -100 nor a token id in [0, vocab_size)
    bad_attention_mask: list[str]  # a mask value other than 0 or 1

    @property
    def faults(self) -> dict[str, list[str]]:
        return {
            "length_mismatch": self.length_mismatch,
            "token_out_of_range": self.token_out_of_range,
            "label_out_of_range": self.label_out_of_range,
            "bad_attention_mask": self.bad_attention_mask,
        }

    @property
    def sane(self) -> bool:
        return not any(self.faults.values())


def label_report(split: datasets.Dataset, vocab_size: int, batch_rows: int = 2048) -> LabelReport:
    """Check every token of a split in Arrow, without turning rows into Python lists.

    An id at or above the embedding size is an index error on CPU and a device-side assert on
    CUDA, after the GPU has been allocated; a mask value other than 0/1 silently changes
    attention. Both are cheaper to find here. Packed rows' `position_ids` must be as long as
    their `input_ids` too. Read `batch_rows` rows at a time, so memory stays flat whatever the
    split's size (the columns of the memory-mapped table are never copied whole).
    """
    table = split.with_format("arrow")[:]  # honours a selection (indices mapping) of the split
    faults: dict[str, list[str]] = {kind: [] for kind in LABEL_FAULTS}
    for batch in table.to_batches(max_chunksize=batch_rows):
        for kind, ids in _label_faults(batch, vocab_size).items():
            faults[kind] += ids
    return LabelReport(rows=len(table), **faults)


LABEL_FAULTS = ("length_mismatch", "token_out_of_range", "label_out_of_range", "bad_attention_mask")


def _label_faults(batch: pa.RecordBatch, vocab_size: int) -> dict[str, list[str]]:
    """The ids of the rows of `batch` with each fault of `LABEL_FAULTS`."""
    ids = batch.column("id")
    input_ids, mask, labels = (batch.column(name) for name in ("input_ids", "attention_mask", "labels"))
    lengths = pc.list_value_length(input_ids)
    per_token = [mask, labels]
    if "position_ids" in batch.schema.names:
        per_token.append(batch.column("position_ids"))
    mismatch = functools.reduce(pc.or_, [pc.not_equal(lengths, pc.list_value_length(column)) for column in per_token])

    def rows_where(values: pa.Array, bad_values: pa.Array) -> pa.Array:
        parents = pc.list_parent_indices(values)
        return pc.unique(pc.filter(parents, bad_values))

    tokens = pc.list_flatten(input_ids)
    flat_labels = pc.list_flatten(labels)
    flat_mask = pc.list_flatten(mask)
    bad_tokens = pc.or_(pc.less(tokens, 0), pc.greater_equal(tokens, vocab_size))
    bad_labels = pc.and_(
        pc.not_equal(flat_labels, IGNORE_INDEX),
        pc.or_(pc.less(flat_labels, 0), pc.greater_equal(flat_labels, vocab_size)),
    )
    bad_mask = pc.and_(pc.not_equal(flat_mask, 0), pc.not_equal(flat_mask, 1))

    def ids_of(rows: pa.Array) -> list[str]:
        return pc.take(ids, rows).to_pylist()

    return {
        "length_mismatch": ids_of(pc.indices_nonzero(mismatch)),
        "token_out_of_range": ids_of(rows_where(input_ids, bad_tokens)),
        "label_out_of_range": ids_of(rows_where(labels, bad_labels)),
        "bad_attention_mask": ids_of(rows_where(mask, bad_mask)),
    }
