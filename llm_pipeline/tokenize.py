"""Records -> token ids with loss-masked labels, packed into rows a causal-LM trainer consumes.

Supervised records (`input` + `output`) become ``template(input) + output + EOS``; the prompt
part is masked (label -100) unless ``train_on_source``. Unsupervised records (`text`) become
``text + EOS`` with every token a label. The labels are *not* shifted: Hugging Face causal-LM
models shift them inside ``forward``, so the label at position 0 never enters the loss.

With ``packing`` (the default) the records of a split are laid into rows of at most
``max_length`` tokens: unsupervised texts are concatenated and cut into full blocks (a long text
continues in the next block instead of being cut off); supervised records, and what is left of
the texts, are packed whole by best-fit decreasing. Inside a row every piece of a record starts
again at position 0 (`position_ids`): with no attention mask, transformers then builds a
block-diagonal causal mask (its flattening collator relies on the same rule), so no token
attends to, or is predicted from, another record. The label at the first token of every piece
is masked for the same reason. Without packing every record is a row of its own and the
trainer's collator pads each batch to its longest row.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa

from llm_pipeline.fingerprint import code_fingerprint, settings_fingerprint
from llm_pipeline.row_cache import KEY, TableCache

IGNORE_INDEX = -100
"""Label value that the cross-entropy loss of Hugging Face models skips."""

DEFAULT_PROMPT_TEMPLATE = "### Instruction:\n{input}\n\n### Response:\n"

FORMAT_VERSION = "2"
"""Changes whenever the same inputs would tokenize differently; part of the tokenized data version."""

DATA_VERSION_FILE = "data_version.txt"
"""Written into the saved tokenized splits: `tokenized_data_version` of what made them."""
REPORT_FILE = "tokenize_report.json"
"""Written beside it: `TokenizeReport.to_dict()`."""

OVERLENGTH_POLICIES = ("truncate", "drop")

# Reasons a record is dropped here; the caller quarantines them under these names.
REASON_PROMPT_FILLS_MAX_LENGTH = "prompt_fills_max_length"
REASON_NO_TARGET_TOKENS = "no_target_tokens"
REASON_PROMPT_TOO_LONG = "prompt_over_source_max_len"
REASON_RESPONSE_TOO_LONG = "response_over_target_max_len"
REASON_RECORD_TOO_LONG = "record_over_max_length"

TOKENIZED_COLUMNS = ("id", "source", "input_ids", "attention_mask", "labels")
PACKED_COLUMNS = (*TOKENIZED_COLUMNS, "position_ids")
"""Packed rows also carry `position_ids`, which restart at 0 where a record (piece) begins."""

# Separators of the record ids and sources that share a packed row.
ROW_ID_SEPARATOR = "+"
ROW_SOURCE_SEPARATOR = " | "

# Helper columns that live only between `map` and packing.
_DROP_COLUMN = "_drop_reason"
_TRUNCATED_COLUMN = "_truncated"
_LENGTH_COLUMN = "_length"
_FULL_LENGTH_COLUMN = "_full_length"
_TEXT_COLUMN = "_is_text"
_HELPER_COLUMNS = [_DROP_COLUMN, _TRUNCATED_COLUMN, _LENGTH_COLUMN, _FULL_LENGTH_COLUMN, _TEXT_COLUMN]

_ENCODED_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "source": datasets.Value("string"),
        "input_ids": datasets.List(datasets.Value("int32")),
        "attention_mask": datasets.List(datasets.Value("int8")),
        "labels": datasets.List(datasets.Value("int32")),
        _DROP_COLUMN: datasets.Value("string"),
        _TRUNCATED_COLUMN: datasets.Value("bool"),
        _LENGTH_COLUMN: datasets.Value("int32"),
        _FULL_LENGTH_COLUMN: datasets.Value("int32"),
        _TEXT_COLUMN: datasets.Value("bool"),
    }
)
_ROW_FEATURES = datasets.Features({name: _ENCODED_FEATURES[name] for name in TOKENIZED_COLUMNS})
_PACKED_FEATURES = datasets.Features({**_ROW_FEATURES, "position_ids": datasets.List(datasets.Value("int32"))})
_PLAN_FEATURES = datasets.Features({name: datasets.List(datasets.Value("int64")) for name in ("record", "start", "end")})


@dataclass(frozen=True)
class TokenizeSettings:
    max_length: int = 512
    """Tokens per row: a packed row holds at most this many; unpacked, a longer record is cut or dropped."""
    train_on_source: bool = False
    """Also compute the loss on the prompt tokens of supervised records."""
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    """How a supervised `input` is shown to the model; must contain `{input}`."""
    num_proc: int = 1
    """Worker processes for `datasets.map`."""
    packing: bool = True
    """Pack records into rows of `max_length` tokens; off: one record per row, padded per batch."""
    source_max_len: int = 0
    """Most tokens of a supervised prompt (template included); 0 = no limit of its own."""
    target_max_len: int = 0
    """Most tokens of a supervised response, EOS included; 0 = no limit of its own."""
    overlength: str = "truncate"
    """What happens to a record over a limit: `truncate` it (counted) or `drop` it (quarantined)."""

    def __post_init__(self) -> None:
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2 (one token and EOS), got {self.max_length}")
        if "{input}" not in self.prompt_template:
            raise ValueError(f"prompt_template must contain '{{input}}', got {self.prompt_template!r}")
        if self.num_proc < 1:
            raise ValueError(f"num_proc must be at least 1, got {self.num_proc}")
        if self.source_max_len < 0 or self.target_max_len < 0:
            raise ValueError("source_max_len and target_max_len must be >= 0 (0 = no limit)")
        if self.overlength not in OVERLENGTH_POLICIES:
            raise ValueError(f"overlength must be one of {', '.join(OVERLENGTH_POLICIES)}; got {self.overlength!r}")


@dataclass(frozen=True)
class DroppedRecord:
    """A record that was not kept (too long, or nothing to learn from), and why."""

    split: str
    id: str
    source: str
    reason: str


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


@dataclass
class TokenizeReport:
    splits: dict[str, SplitStats] = field(default_factory=dict)
    dropped: list[DroppedRecord] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "splits": {name: asdict(stats) for name, stats in self.splits.items()},
            "dropped": [asdict(record) for record in self.dropped],
        }


def tokenize_splits(
    splits: datasets.DatasetDict,
    tokenizer,
    settings: TokenizeSettings = TokenizeSettings(),
    cache: TableCache | None = None,
) -> tuple[datasets.DatasetDict, TokenizeReport]:
    """Tokenize (and pack) every split; return the rows and a report of what happened.

    Output columns: `PACKED_COLUMNS` with packing, `TOKENIZED_COLUMNS` without. Records over a
    limit under the `drop` policy, and records left with no label that the loss can use, are
    removed and listed in `report.dropped`. With a `cache` (from `encoding_cache`), records
    encoded by an earlier run with the same tokenizer and settings are not encoded again.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("tokenize_splits needs a fast (Rust) tokenizer; got a slow one")
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token; set tokenizer.eos_token before tokenizing")

    encode = _BatchEncoder(tokenizer, settings, cache)
    features = _PACKED_FEATURES if settings.packing else _ROW_FEATURES
    all_encoded: list[datasets.Dataset] = []
    tokenized_splits: dict[str, datasets.Dataset] = {}
    report = TokenizeReport()
    for name, split in splits.items():
        if len(split) == 0:  # `map` leaves an empty dataset's columns as they were
            tokenized_splits[name] = datasets.Dataset.from_dict({column: [] for column in features}, features=features)
            report.splits[name] = _split_stats(0, np.zeros(0, np.int64), [], 0, 0, (0, 0), settings.max_length)
            continue
        if cache is not None:
            cache.count(column_values(split, "id"))
        encoded = _encode_split(split, encode, settings, name)
        all_encoded.append(encoded)
        reasons = column_values(encoded, _DROP_COLUMN)
        is_dropped = np.asarray([bool(reason) for reason in reasons], dtype=bool)
        dropped_rows = np.flatnonzero(is_dropped)
        if dropped_rows.size:
            gone = encoded.select(dropped_rows).select_columns(["id", "source", _DROP_COLUMN])
            report.dropped.extend(
                DroppedRecord(split=name, id=row["id"], source=row["source"], reason=row[_DROP_COLUMN]) for row in gone
            )
            encoded = encoded.select(np.flatnonzero(~is_dropped))
        dropped_reasons = [reasons[i] for i in dropped_rows]
        if settings.packing:
            rows = pack(encoded, settings.max_length, num_proc=settings.num_proc)
        else:
            rows = encoded.select_columns(list(TOKENIZED_COLUMNS))
        report.splits[name] = _split_stats(
            records_in=len(split),
            lengths=np.asarray(column_values(encoded, _FULL_LENGTH_COLUMN), dtype=np.int64),
            dropped_reasons=dropped_reasons,
            truncated=int(sum(column_values(encoded, _TRUNCATED_COLUMN))),
            rows=len(rows),
            row_tokens=_count_tokens(rows),
            max_length=settings.max_length,
        )
        tokenized_splits[name] = rows
    if cache is not None:  # this run's encodings, and only those, are the cache from now on
        cache.save_from(itertools.chain.from_iterable(_cache_rows(encoded) for encoded in all_encoded))
    return datasets.DatasetDict(tokenized_splits), report


def _encode_split(split: datasets.Dataset, encode: _BatchEncoder, settings: TokenizeSettings, name: str) -> datasets.Dataset:
    """Every record of the split encoded (`_ENCODED_FEATURES`), in order (cached ones read back)."""
    return split.map(
        encode,
        batched=True,
        num_proc=settings.num_proc if settings.num_proc > 1 and len(split) >= settings.num_proc else None,
        remove_columns=split.column_names,
        features=_ENCODED_FEATURES,
        desc=f"tokenize {name}",
        new_fingerprint=uuid.uuid4().hex,  # not a hash of the tokenizer: our caches decide what is reused
    )


def _cache_rows(encoded: datasets.Dataset, batch_rows: int = 8192):
    """The encoded records as rows of `ENCODING_CACHE_SCHEMA`, a batch at a time."""
    for batch in encoded.with_format("arrow").iter(batch_size=batch_rows):
        yield batch.rename_columns([KEY if column == "id" else column for column in batch.column_names]).select(ENCODING_CACHE_SCHEMA.names)


_CACHED_COLUMNS = [name for name in _ENCODED_FEATURES if name not in ("id", "source")]
# What `encoding_cache` keeps per record: the encoding, without the record's id (the key) and source.
ENCODING_CACHE_SCHEMA = pa.schema([pa.field(KEY, pa.string()), *(_ENCODED_FEATURES.arrow_schema.field(name) for name in _CACHED_COLUMNS)])


def encoding_cache(folder, tokenizer, settings: TokenizeSettings) -> TableCache:
    """Encoded records kept between runs under `folder`, keyed by record id, one file per tokenizer,
    settings and tokenizing code (record ids are content hashes: same id, same tokens)."""
    fingerprint = settings_fingerprint(
        tokenization_fingerprint(tokenizer, settings), code_fingerprint(("tokenize.py",), ("tokenizers",))
    )
    return TableCache(Path(folder), fingerprint, ENCODING_CACHE_SCHEMA)


def tokenization_fingerprint(tokenizer, settings: TokenizeSettings) -> str:
    """A hash of everything besides the records that decides the tokens: tokenizer, settings, code.

    The tokenizer enters through its full serialized pipeline (vocabulary, merges, normalizer,
    pre-tokenizer, post-processor, added tokens) and its special tokens, so two models whose
    tokenizers differ in any of them never share tokenized data.
    """
    digest = hashlib.sha256()
    digest.update(FORMAT_VERSION.encode())
    digest.update(type(tokenizer).__name__.encode())
    digest.update(_plain_backend(tokenizer).to_str().encode("utf-8"))
    digest.update(json.dumps(tokenizer.special_tokens_map, sort_keys=True, default=str).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return digest.hexdigest()


def tokenized_data_version(splits_path, tokenizer, settings: TokenizeSettings) -> str:
    """The version of tokenized splits: a hash of the split data, the tokenizer and the settings."""
    digest = hashlib.sha256(saved_dataset_digest(splits_path).encode())
    digest.update(tokenization_fingerprint(tokenizer, settings).encode())
    return digest.hexdigest()


def saved_dataset_digest(path) -> str:
    """A hash of the Arrow data files of a dataset saved with `save_to_disk` (and of its split names).

    Only the files its `state.json` lists count: `map` leaves cache files beside them that say
    nothing about the data.
    """
    root = Path(path)
    digest = hashlib.sha256()
    split_dirs = (
        [root / name for name in json.loads((root / "dataset_dict.json").read_text())["splits"]]
        if (root / "dataset_dict.json").is_file()
        else [root]
    )
    for split_dir in split_dirs:
        digest.update(split_dir.name.encode())
        state = json.loads((split_dir / "state.json").read_text())
        for entry in state["_data_files"]:
            with (split_dir / entry["filename"]).open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def record_ids_of_rows(row_ids) -> list[str]:
    """The ids of the records in tokenized rows, each once, in order of first appearance.

    A packed row's `id` joins the ids of its records with `ROW_ID_SEPARATOR`, and a text that
    continues over several rows appears in each of them; an unpacked row's `id` is its record's.
    """
    return list(dict.fromkeys(part for row_id in row_ids for part in row_id.split(ROW_ID_SEPARATOR)))


def _plain_backend(tokenizer):
    """A copy of the Rust tokenizer with padding and truncation off.

    transformers leaves the padding and truncation of its last call set on the shared backend
    (after `tokenizer(text, padding="max_length", max_length=2048)` every later backend
    encoding comes out padded to 2048); the copy is immune to that, and leaves the caller's
    tokenizer as it was.
    """
    import copy

    backend = copy.deepcopy(tokenizer.backend_tokenizer)
    backend.no_padding()
    backend.no_truncation()
    return backend


# ----------------------------------------------------------------------------------------------
# One record
# ----------------------------------------------------------------------------------------------


class _BatchEncoder:
    """The function `datasets.map` runs on each batch (a class so that it pickles for num_proc)."""

    def __init__(self, tokenizer, settings: TokenizeSettings, cache: TableCache | None = None) -> None:
        self.tokenizer = tokenizer
        self.settings = settings
        self.cache = cache
        self.backend = _plain_backend(tokenizer)
        # Tokens the tokenizer puts before any text (a BOS): kept when a prompt is cut.
        self.special_prefix = len(self._encode([""], add_special_tokens=True)[0])

    def _encode(self, texts: list[str], add_special_tokens: bool) -> list[list[int]]:
        """Token ids straight from the Rust tokenizer, without offsets or Python-side wrapping.

        The fast tokenizer's `__call__` converts every encoding to Python objects it does not
        need here; asking the backend for ids alone is about a third faster on instruction data.
        """
        encode = getattr(self.backend, "encode_batch_fast", self.backend.encode_batch)
        return [encoding.ids for encoding in encode(texts, add_special_tokens=add_special_tokens)]

    def __call__(self, batch: dict[str, list]) -> pa.Table:
        """The batch encoded (`_ENCODED_FEATURES`), in order; records the cache holds are read back."""
        found = self.cache.found(batch["id"]) if self.cache is not None else np.zeros(len(batch["id"]), dtype=bool)
        if not found.any():
            return self._encode_batch(batch)
        hits, misses = np.flatnonzero(found), np.flatnonzero(~found)
        cached = self.cache.rows([batch["id"][index] for index in hits])
        parts = [
            pa.table(
                {
                    "id": pa.array([batch["id"][index] for index in hits], pa.string()),
                    "source": pa.array([batch["source"][index] for index in hits], pa.string()),
                    **{column: cached.column(column) for column in _CACHED_COLUMNS},
                },
                schema=_ENCODED_FEATURES.arrow_schema,
            )
        ]
        if misses.size:
            parts.append(self._encode_batch({column: [values[index] for index in misses] for column, values in batch.items()}))
        order = np.argsort(np.concatenate([hits, misses]), kind="stable")  # back to the batch's order
        return pa.concat_tables(parts).take(pa.array(order))

    def _encode_batch(self, batch: dict[str, list]) -> pa.Table:
        n = len(batch["id"])
        texts = batch.get("text") or [None] * n
        inputs = batch.get("input") or [None] * n
        outputs = batch.get("output") or [None] * n
        supervised = [texts[i] is None for i in range(n)]
        # First piece: the prompt (supervised) or the whole text; second: the output or nothing.
        firsts = [
            self.settings.prompt_template.format(input=inputs[i] or "") if supervised[i] else texts[i]
            for i in range(n)
        ]
        seconds = [(outputs[i] or "") if supervised[i] else "" for i in range(n)]
        # The first piece takes the tokenizer's own special tokens (a BOS for Llama-style models).
        first_ids = self._encode(firsts, add_special_tokens=True)
        second_ids = self._encode(seconds, add_special_tokens=False) if any(supervised) else [[]] * n

        eos = self.tokenizer.eos_token_id
        encoded: list[_Encoded] = []
        for i in range(n):
            first = first_ids[i]
            if first and first[-1] == eos:
                first = first[:-1]  # a post-processor that appends EOS itself; we add it once, below
            if supervised[i]:
                encoded.append(_encode_supervised(first, second_ids[i], eos, self.settings, self.special_prefix))
            else:
                encoded.append(_encode_text(first, eos, self.settings))
        # Built as Arrow arrays from flat numpy ones: converting Python lists of ids to Arrow
        # would cost more than the tokenizer itself.
        lengths = np.fromiter((len(item.ids) for item in encoded), dtype=np.int64, count=n)
        flat_ids = np.fromiter(itertools.chain.from_iterable(item.ids for item in encoded), dtype=np.int32, count=int(lengths.sum()))
        masked = np.fromiter((item.masked for item in encoded), dtype=np.int64, count=n)
        position = np.arange(flat_ids.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        flat_labels = np.where(position < np.repeat(masked, lengths), IGNORE_INDEX, flat_ids).astype(np.int32)
        columns = {
            "id": pa.array(batch["id"], pa.string()),
            "source": pa.array(batch["source"], pa.string()),
            "input_ids": _list_array(flat_ids, lengths),
            "attention_mask": _list_array(np.ones(flat_ids.size, dtype=np.int8), lengths),
            "labels": _list_array(flat_labels, lengths),
            _DROP_COLUMN: pa.array([item.drop_reason for item in encoded], pa.string()),
            _TRUNCATED_COLUMN: pa.array([item.truncated for item in encoded], pa.bool_()),
            _LENGTH_COLUMN: pa.array(lengths, pa.int32()),
            _FULL_LENGTH_COLUMN: pa.array([item.full_length for item in encoded], pa.int32()),
            _TEXT_COLUMN: pa.array([not value for value in supervised], pa.bool_()),
        }
        return pa.table(columns, schema=_ENCODED_FEATURES.arrow_schema)


def _list_array(flat: np.ndarray, lengths: np.ndarray) -> pa.ListArray:
    """Rows of `lengths` items each, cut from `flat` in order."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))


@dataclass(frozen=True)
class _Encoded:
    ids: list[int]
    masked: int
    """Leading positions whose label is IGNORE_INDEX (the prompt); every later label is its id."""
    full_length: int
    """Tokens before any cut."""
    truncated: bool = False
    drop_reason: str = ""


def _encode_text(ids: list[int], eos: int, settings: TokenizeSettings) -> _Encoded:
    """`text + EOS`, every token a label. Packed texts are split across rows, never cut."""
    ids = ids + [eos]
    full = len(ids)
    if settings.packing or full <= settings.max_length:
        return _Encoded(ids, 0, full, drop_reason=_no_target_reason(len(ids) - 1))
    if settings.overlength == "drop":
        return _Encoded([], 0, full, drop_reason=REASON_RECORD_TOO_LONG)
    # Cut at the end, EOS included: an EOS after a cut would teach the model to stop mid-sentence.
    ids = ids[: settings.max_length]
    return _Encoded(ids, 0, full, truncated=True, drop_reason=_no_target_reason(len(ids) - 1))


def _encode_supervised(
    prompt: list[int], response: list[int], eos: int, settings: TokenizeSettings, special_prefix: int
) -> _Encoded:
    """`prompt + response + EOS` with the prompt masked, within source/target/row limits."""
    full = len(prompt) + len(response) + 1
    drop = settings.overlength == "drop"
    truncated = False
    if settings.source_max_len and len(prompt) > settings.source_max_len:
        if drop:
            return _Encoded([], 0, full, drop_reason=REASON_PROMPT_TOO_LONG)
        prompt = _cut_prompt(prompt, settings.source_max_len, special_prefix)
        truncated = True
    response = response + [eos]
    if settings.target_max_len and len(response) > settings.target_max_len:
        if drop:
            return _Encoded([], 0, full, drop_reason=REASON_RESPONSE_TOO_LONG)
        response = _cut_response(response, settings.target_max_len)
        truncated = True
    if len(prompt) >= settings.max_length and not settings.train_on_source:
        # Nothing of the response would fit: no policy can keep a record worth learning from.
        return _Encoded([], 0, full, drop_reason=REASON_PROMPT_FILLS_MAX_LENGTH)
    if len(prompt) + len(response) > settings.max_length:
        if drop:
            return _Encoded([], 0, full, drop_reason=REASON_RECORD_TOO_LONG)
        prompt = prompt[: settings.max_length]  # only with train_on_source can the prompt alone overflow
        response = _cut_response(response, settings.max_length - len(prompt))
        truncated = True
    ids = prompt + response
    masked = 0 if settings.train_on_source else len(prompt)
    # Labels after position 0 that enter the loss (token ids are never IGNORE_INDEX).
    learned = len(ids) - 1 if settings.train_on_source else len(response) - (0 if prompt else 1)
    return _Encoded(ids, masked, full, truncated=truncated, drop_reason=_no_target_reason(learned))


def _cut_prompt(prompt: list[int], limit: int, special_prefix: int) -> list[int]:
    """Keep the special prefix (BOS) and the prompt's *end*: the template's response marker sits there."""
    head = min(special_prefix, limit)
    return prompt[:head] + prompt[len(prompt) - (limit - head) :]


def _cut_response(response: list[int], limit: int) -> list[int]:
    """Keep the response's beginning; its EOS goes with the cut (the text did not end there)."""
    return response[:limit]


def _no_target_reason(learned_labels: int) -> str:
    """"" when some label after position 0 enters the loss (nothing predicts position 0)."""
    return "" if learned_labels > 0 else REASON_NO_TARGET_TOKENS


# ----------------------------------------------------------------------------------------------
# Packing
# ----------------------------------------------------------------------------------------------

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
    plan = plan_rows(column_values(encoded, _LENGTH_COLUMN), column_values(encoded, _TEXT_COLUMN), max_length)
    plan_dataset = datasets.Dataset.from_dict(
        {
            "record": [[piece[0] for piece in row] for row in plan],
            "start": [[piece[1] for piece in row] for row in plan],
            "end": [[piece[2] for piece in row] for row in plan],
        },
        features=_PLAN_FEATURES,
    )
    if len(plan_dataset) == 0:
        return datasets.Dataset.from_dict({column: [] for column in _PACKED_FEATURES}, features=_PACKED_FEATURES)
    rows = plan_dataset.with_format("arrow").map(
        _RowBuilder(encoded.select_columns(["id", "source", "input_ids", "labels"])),
        batched=True,
        num_proc=num_proc if num_proc > 1 and len(plan_dataset) >= num_proc else None,
        remove_columns=plan_dataset.column_names,
        features=_PACKED_FEATURES,
        desc="pack",
        new_fingerprint=uuid.uuid4().hex,
    )
    # A row holding only a 1-token continuation has no usable label; it carries nothing to learn.
    rows = rows.with_format(None)
    useful = _rows_with_targets(rows)
    return rows if useful.all() else rows.select(np.flatnonzero(useful))


def column_values(dataset: datasets.Dataset, name: str) -> list:
    """One column as a list, read in one batch (`dataset[name]` in datasets 4+ iterates row by row)."""
    return dataset.select_columns([name])[:][name]


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
            "input_ids": _list_array(row_ids, row_lengths),
            "attention_mask": _list_array(np.ones(total, dtype=np.int8), row_lengths),
            "labels": _list_array(row_labels, row_lengths),
            "position_ids": _list_array(positions, row_lengths),
        }
        return pa.table(columns, schema=_PACKED_FEATURES.arrow_schema)


# ----------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------


def length_histogram(lengths: np.ndarray, max_length: int) -> list[tuple[str, int]]:
    """Counts of record lengths in power-of-two buckets up to `max_length` ("<= 16", ...), and "> max_length"."""
    bounds = [2**k for k in range(4, 32) if 2**k < max_length] + [max_length]
    edges = [0, *[bound + 1 for bound in bounds], max(int(lengths.max(initial=0)), max_length) + 2]
    counts = np.histogram(lengths, bins=edges)[0].tolist()
    return [(f"<= {bound}", count) for bound, count in zip(bounds, counts)] + [(f"> {max_length}", counts[-1])]


def _count_tokens(rows: datasets.Dataset) -> tuple[int, int]:
    """(real tokens, tokens whose label enters the loss) over all rows, counted in Arrow."""
    import pyarrow.compute as pc

    if len(rows) == 0:
        return 0, 0
    labels = rows.select_columns(["labels"]).with_format("arrow")[:]["labels"]
    tokens = int(pc.sum(pc.list_value_length(labels)).as_py() or 0)
    learned = int(pc.sum(pc.not_equal(pc.list_flatten(labels), IGNORE_INDEX)).as_py() or 0)
    first_learned = int(pc.sum(pc.not_equal(pc.list_element(labels, 0), IGNORE_INDEX)).as_py() or 0)
    return tokens, learned - first_learned  # the label at position 0 is never predicted


def _split_stats(
    records_in: int,
    lengths: np.ndarray,
    dropped_reasons: list[str],
    truncated: int,
    rows: int,
    row_tokens: tuple[int, int],
    max_length: int,
) -> SplitStats:
    too_long = sum(1 for reason in dropped_reasons if reason in _TOO_LONG_REASONS)
    no_target = len(dropped_reasons) - too_long
    tokens, targets = row_tokens
    pad_fraction = 1.0 - tokens / (rows * max_length) if rows else 0.0
    if lengths.size == 0:
        return SplitStats(records_in, 0, truncated, too_long, no_target, rows, tokens, targets, pad_fraction, 0, 0.0, 0, 0.0)
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
    )


_TOO_LONG_REASONS = {REASON_PROMPT_TOO_LONG, REASON_RESPONSE_TOO_LONG, REASON_RECORD_TOO_LONG}
