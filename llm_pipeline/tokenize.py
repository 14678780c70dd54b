"""Records -> token ids with loss-masked labels, ready for a causal-LM trainer.

Supervised records (`input` + `output`) become ``template(input) + output + EOS``; the prompt
part is masked (label -100) unless ``train_on_source``. Unsupervised records (`text`) become
``text + EOS`` with every token a label. The labels are *not* shifted: Hugging Face causal-LM
models shift them inside ``forward``, so the label at position 0 never enters the loss.

Nothing is padded here; the trainer's collator pads each batch to its own longest record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import datasets
import numpy as np

IGNORE_INDEX = -100
"""Label value that the cross-entropy loss of Hugging Face models skips."""

DEFAULT_PROMPT_TEMPLATE = "### Instruction:\n{input}\n\n### Response:\n"

# Reasons a record is dropped here; the caller quarantines them under these names.
REASON_PROMPT_FILLS_MAX_LENGTH = "prompt_fills_max_length"
REASON_NO_TARGET_TOKENS = "no_target_tokens"

TOKENIZED_COLUMNS = ("id", "source", "input_ids", "attention_mask", "labels")

# Helper columns that live only between `map` and the final filter.
_DROP_COLUMN = "_drop_reason"
_TRUNCATED_COLUMN = "_truncated"
_LENGTH_COLUMN = "_length"

_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "source": datasets.Value("string"),
        "input_ids": datasets.List(datasets.Value("int32")),
        "attention_mask": datasets.List(datasets.Value("int8")),
        "labels": datasets.List(datasets.Value("int32")),
        _DROP_COLUMN: datasets.Value("string"),
        _TRUNCATED_COLUMN: datasets.Value("bool"),
        _LENGTH_COLUMN: datasets.Value("int32"),
    }
)


@dataclass(frozen=True)
class TokenizeSettings:
    max_length: int = 512
    """Longest record in tokens, EOS included; longer records are cut at the end."""
    train_on_source: bool = False
    """Also compute the loss on the prompt tokens of supervised records."""
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    """How a supervised `input` is shown to the model; must contain `{input}`."""
    num_proc: int = 1
    """Worker processes for `datasets.map`."""

    def __post_init__(self) -> None:
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2 (one token and EOS), got {self.max_length}")
        if "{input}" not in self.prompt_template:
            raise ValueError(f"prompt_template must contain '{{input}}', got {self.prompt_template!r}")
        if self.num_proc < 1:
            raise ValueError(f"num_proc must be at least 1, got {self.num_proc}")


@dataclass(frozen=True)
class DroppedRecord:
    """A record that was left without any token to learn from, and why."""

    split: str
    id: str
    source: str
    reason: str


@dataclass(frozen=True)
class SplitStats:
    records_in: int
    kept: int
    truncated: int
    """Kept records cut at `max_length` (their EOS is cut too: see `_encode_record`)."""
    dropped_no_target: int
    # Token lengths of the kept records (0 when nothing was kept).
    min_tokens: int
    mean_tokens: float
    max_tokens: int
    p95_tokens: float


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
    splits: datasets.DatasetDict, tokenizer, settings: TokenizeSettings = TokenizeSettings()
) -> tuple[datasets.DatasetDict, TokenizeReport]:
    """Tokenize every split; return the kept records and a report of what happened.

    Output columns: `id`, `source`, `input_ids`, `attention_mask`, `labels`. Records left with
    no label that the loss can use are removed and listed in `report.dropped`.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("tokenize_splits needs a fast (Rust) tokenizer; got a slow one")
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token; set tokenizer.eos_token before tokenizing")

    encode = _BatchEncoder(tokenizer, settings)
    tokenized_splits: dict[str, datasets.Dataset] = {}
    report = TokenizeReport()
    for name, split in splits.items():
        if len(split) == 0:  # `map` leaves an empty dataset's columns as they were
            empty = datasets.Dataset.from_dict({name: [] for name in _FEATURES}, features=_FEATURES)
            report.splits[name] = _split_stats(records_in=0, lengths=np.zeros(0), truncated=0, dropped=0)
            tokenized_splits[name] = empty.remove_columns([_DROP_COLUMN, _TRUNCATED_COLUMN, _LENGTH_COLUMN])
            continue
        mapped = split.map(
            encode,
            batched=True,
            num_proc=settings.num_proc if settings.num_proc > 1 else None,
            remove_columns=split.column_names,
            features=_FEATURES,
            desc=f"tokenize {name}",
        )
        is_dropped = np.asarray([bool(reason) for reason in mapped[_DROP_COLUMN]], dtype=bool)
        dropped_rows = np.flatnonzero(is_dropped)
        if dropped_rows.size:
            gone = mapped.select(dropped_rows).select_columns(["id", "source", _DROP_COLUMN])
            report.dropped.extend(
                DroppedRecord(split=name, id=row["id"], source=row["source"], reason=row[_DROP_COLUMN])
                for row in gone
            )
            mapped = mapped.select(np.flatnonzero(~is_dropped))
        report.splits[name] = _split_stats(
            records_in=len(split),
            lengths=np.asarray(mapped[_LENGTH_COLUMN], dtype=np.int64),
            truncated=int(sum(mapped[_TRUNCATED_COLUMN])),
            dropped=int(dropped_rows.size),
        )
        tokenized_splits[name] = mapped.remove_columns([_DROP_COLUMN, _TRUNCATED_COLUMN, _LENGTH_COLUMN])
    return datasets.DatasetDict(tokenized_splits), report


class _BatchEncoder:
    """The function `datasets.map` runs on each batch (a class so that it pickles for num_proc)."""

    def __init__(self, tokenizer, settings: TokenizeSettings) -> None:
        self.tokenizer = tokenizer
        self.settings = settings

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
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
        first_ids = self.tokenizer(firsts, add_special_tokens=True)["input_ids"]
        second_ids = self.tokenizer(seconds, add_special_tokens=False)["input_ids"]

        out: dict[str, list] = {name: [] for name in _FEATURES}
        for i in range(n):
            ids, labels, truncated = _encode_record(
                first_ids[i],
                second_ids[i],
                supervised=supervised[i],
                eos_id=self.tokenizer.eos_token_id,
                max_length=self.settings.max_length,
                train_on_source=self.settings.train_on_source,
            )
            out["id"].append(batch["id"][i])
            out["source"].append(batch["source"][i])
            out["input_ids"].append(ids)
            out["attention_mask"].append([1] * len(ids))
            out["labels"].append(labels)
            out[_TRUNCATED_COLUMN].append(truncated)
            out[_LENGTH_COLUMN].append(len(ids))
            out[_DROP_COLUMN].append(_drop_reason(labels, supervised[i], len(first_ids[i]), self.settings))
        return out


def _encode_record(
    first: list[int],
    second: list[int],
    *,
    supervised: bool,
    eos_id: int,
    max_length: int,
    train_on_source: bool,
) -> tuple[list[int], list[int], bool]:
    """One record's ids and labels, closed by EOS and cut at `max_length`.

    A record that does not fit loses its end, EOS included: an EOS after a cut would teach the
    model to stop in the middle of a sentence.
    """
    if first and first[-1] == eos_id:
        first = first[:-1]  # a post-processor that appends EOS itself; we add it once, below
    ids = first + second + [eos_id]
    if supervised and not train_on_source:
        labels = [IGNORE_INDEX] * len(first) + second + [eos_id]
    else:
        labels = list(ids)
    truncated = len(ids) > max_length
    return ids[:max_length], labels[:max_length], truncated


def _drop_reason(labels: list[int], supervised: bool, first_length: int, settings: TokenizeSettings) -> str:
    """Why a record has nothing to learn from, or "" when it has.

    The label at position 0 is never predicted (nothing precedes it), so it does not count.
    """
    if any(label != IGNORE_INDEX for label in labels[1:]):
        return ""
    if supervised and not settings.train_on_source and first_length >= settings.max_length:
        return REASON_PROMPT_FILLS_MAX_LENGTH
    return REASON_NO_TARGET_TOKENS


def _split_stats(*, records_in: int, lengths: np.ndarray, truncated: int, dropped: int) -> SplitStats:
    if lengths.size == 0:
        return SplitStats(records_in, 0, truncated, dropped, 0, 0.0, 0, 0.0)
    return SplitStats(
        records_in=records_in,
        kept=int(lengths.size),
        truncated=truncated,
        dropped_no_target=dropped,
        min_tokens=int(lengths.min()),
        mean_tokens=float(lengths.mean()),
        max_tokens=int(lengths.max()),
        p95_tokens=float(np.percentile(lengths, 95)),
    )
