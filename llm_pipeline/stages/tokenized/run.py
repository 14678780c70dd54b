"""Splits + tokenizer -> masked token ids, packed into rows: the tokenized stage's work.

`run` is the stage: it keeps the saved output when the split data, the tokenizer and the settings
are those that made it (its data version), and otherwise tokenizes with `tokenize_splits`,
reading unchanged records' encodings from the encoding cache, and quarantines dropped records.
The tokenizer it used is saved beside the rows (`TOKENIZER_DIR`) with the chat template set: the
trainer loads that one, so every checkpoint and the merged model carry the template.
"""

from __future__ import annotations

import itertools
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import numpy as np

from llm_pipeline.progress import count_progress_line
from llm_pipeline.records import Rejection
from llm_pipeline.stages.base_model.reference import model_ref_trusts_code, read_model_ref
from llm_pipeline.stages.tokenized.chat_template import ChatTemplate, save_tokenizer
from llm_pipeline.stages.tokenized.encode import (
    DROP_COLUMN,
    ENCODED_FEATURES,
    ENCODING_CACHE_SCHEMA,
    FULL_LENGTH_COLUMN,
    ROW_FEATURES,
    TRUNCATED_COLUMN,
    BatchEncoder,
    column_values,
    encoding_cache,
)
from llm_pipeline.stages.tokenized.pack import PACKED_FEATURES, pack
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.stages.tokenized.stats import SplitStats, count_tokens, split_stats
from llm_pipeline.stages.tokenized.version import chat_template_of, tokenized_data_version
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.fingerprint import plain, saved_dataset_digest
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.row_cache import KEY, TableCache
from llm_pipeline.storage.stage_output import save_rejections
from llm_pipeline.token_rows import CONTENT_DIGEST_FILE, DATA_VERSION_FILE, TOKENIZED_COLUMNS, TOKENIZER_DIR

STAGE = "tokenized"
UPSTREAM = "splits"

REPORT_FILE = "tokenize_report.json"
"""Written beside the rows: `TokenizeReport.to_dict()`."""
SETTINGS_FILE = "tokenize_settings.json"
"""The settings the output was built with (the prompt template, say), for the stages that follow."""

# A split is encoded in chunks, a progress line after each. After the first (FIRST_CHUNK_RECORDS
# per worker, before any pace is known) a chunk holds at least 1/PROGRESS_LINES_PER_SPLIT of the
# split and PROGRESS_INTERVAL_S of work at the pace so far: a big corpus logs about 20 lines,
# and every `map` call (a worker pool with num_proc) is worth its start.
PROGRESS_LINES_PER_SPLIT = 20
PROGRESS_INTERVAL_S = 5.0
FIRST_CHUNK_RECORDS = 2000


@dataclass(frozen=True)
class DroppedRecord:
    """A record that was not kept (too long, or nothing to learn from), and why."""

    split: str
    id: str
    source: str
    reason: str


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
    settings: TokenizeSettings | None = None,
    cache: TableCache | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> tuple[datasets.DatasetDict, TokenizeReport]:
    """Tokenize (and pack) every split; return the rows and a report of what happened.

    Output columns: `PACKED_COLUMNS` with packing, `TOKENIZED_COLUMNS` without. Records over a
    limit under the `drop` policy, and records left with no label that the loss can use, are
    removed and listed in `report.dropped`, and so are records the chat template cannot render
    (a template that fails on its own check raises ChatTemplateError). With a `cache` (from `encoding_cache`), records
    encoded by an earlier run with the same tokenizer and settings are not encoded again.
    `log` gets progress lines while a split is encoded (records done of the split, the pace, ETA).
    """
    settings = settings or TokenizeSettings()
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("tokenize_splits needs a fast (Rust) tokenizer; got a slow one")
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token; set tokenizer.eos_token before tokenizing")

    encode = BatchEncoder(tokenizer, settings, chat_template_of(tokenizer, settings), cache)
    features = PACKED_FEATURES if settings.packing else ROW_FEATURES
    all_encoded: list[datasets.Dataset] = []
    tokenized_splits: dict[str, datasets.Dataset] = {}
    report = TokenizeReport()
    for name, split in splits.items():
        if len(split) == 0:  # `map` leaves an empty dataset's columns as they were
            tokenized_splits[name] = datasets.Dataset.from_dict({column: [] for column in features}, features=features)
            report.splits[name] = split_stats(0, np.zeros(0, np.int64), [], 0, 0, (0, 0), settings.max_length)
            continue
        if cache is not None:
            cache.count(column_values(split, "id"))
        encoded = _encode_split(split, encode, settings, name, log)
        all_encoded.append(encoded)
        reasons = column_values(encoded, DROP_COLUMN)
        is_dropped = np.asarray([bool(reason) for reason in reasons], dtype=bool)
        dropped_rows = np.flatnonzero(is_dropped)
        if dropped_rows.size:
            gone = encoded.select(dropped_rows).select_columns(["id", "source", DROP_COLUMN])
            report.dropped.extend(
                DroppedRecord(split=name, id=row["id"], source=row["source"], reason=row[DROP_COLUMN]) for row in gone
            )
            encoded = encoded.select(np.flatnonzero(~is_dropped))
        dropped_reasons = [reasons[i] for i in dropped_rows]
        if settings.packing:
            rows = pack(encoded, settings.max_length, num_proc=settings.num_proc)
        else:
            rows = encoded.select_columns(list(TOKENIZED_COLUMNS))
        report.splits[name] = split_stats(
            records_in=len(split),
            lengths=np.asarray(column_values(encoded, FULL_LENGTH_COLUMN), dtype=np.int64),
            dropped_reasons=dropped_reasons,
            truncated=int(sum(column_values(encoded, TRUNCATED_COLUMN))),
            rows=len(rows),
            row_tokens=count_tokens(rows),
            max_length=settings.max_length,
        )
        tokenized_splits[name] = rows
    if cache is not None:  # this run's encodings, and only those, are the cache from now on
        cache.save_from(itertools.chain.from_iterable(_cache_rows(encoded) for encoded in all_encoded))
    return datasets.DatasetDict(tokenized_splits), report


def _encode_split(
    split: datasets.Dataset, encode: BatchEncoder, settings: TokenizeSettings, name: str, log: Callable[[str], None]
) -> datasets.Dataset:
    """Every record of the split encoded (`ENCODED_FEATURES`), in order (cached ones read back),
    a chunk at a time with a progress line after each (cached records count as done)."""
    total = len(split)
    started = time.monotonic()
    chunks: list[datasets.Dataset] = []
    done = 0
    chunk_records = FIRST_CHUNK_RECORDS * settings.num_proc
    while done < total:
        chunk = split.select(range(done, min(done + chunk_records, total)))  # contiguous: a slice, not a copy
        chunks.append(
            chunk.map(
                encode,
                batched=True,
                num_proc=settings.num_proc if settings.num_proc > 1 and len(chunk) >= settings.num_proc else None,
                remove_columns=split.column_names,
                features=ENCODED_FEATURES,
                desc=f"tokenize {name}",
                new_fingerprint=uuid.uuid4().hex,  # not a hash of the tokenizer: our caches decide what is reused
            )
        )
        done += len(chunk)
        elapsed = time.monotonic() - started
        log(f"tokenize {name}: " + count_progress_line(done, total, elapsed, verb="encoded", noun="records"))
        pace = done / elapsed if elapsed > 0 else 0.0
        chunk_records = max(math.ceil(total / PROGRESS_LINES_PER_SPLIT), round(pace * PROGRESS_INTERVAL_S), 1)
    return chunks[0] if len(chunks) == 1 else datasets.concatenate_datasets(chunks)


def _cache_rows(encoded: datasets.Dataset, batch_rows: int = 8192):
    """The encoded records as rows of `ENCODING_CACHE_SCHEMA`, a batch at a time."""
    for batch in encoded.with_format("arrow").iter(batch_size=batch_rows):
        yield batch.rename_columns([KEY if column == "id" else column for column in batch.column_names]).select(
            ENCODING_CACHE_SCHEMA.names
        )


@dataclass
class TokenizedResult:
    """What a run wrote or kept: the asset's metadata."""

    output: Path
    data_version: str  # of the split data, the tokenizer and the settings (version.tokenized_data_version)
    reused: bool  # the saved output already had this version and was kept as it was
    records_encoded: int  # records tokenized this run
    encodings_from_cache: int  # records whose encoding an earlier run had kept
    report: dict  # `TokenizeReport.to_dict()` of the run that made the output
    chat_template: ChatTemplate  # what rendered the supervised and chat records, saved with the tokenizer

    @property
    def stats(self) -> dict[str, dict]:
        """Per split: `SplitStats` as a dict."""
        return self.report["splits"]

    @property
    def records_in(self) -> int:
        return sum(split["records_in"] for split in self.stats.values())

    @property
    def kept(self) -> int:
        return sum(split["kept"] for split in self.stats.values())

    @property
    def rows(self) -> int:
        return sum(split["rows"] for split in self.stats.values())

    @property
    def dropped_by_reason(self) -> Counter:
        return Counter(item["reason"] for item in self.report["dropped"])


def run(
    layout: DataLayout, settings: TokenizeSettings | None = None, log: Callable[[str], None] = lambda message: None
) -> TokenizedResult:
    """Tokenize `layout.stage("splits")` with the base model's tokenizer into `layout.stage("tokenized")`,
    dropped records into `layout.rejected("tokenized")`; keep the output as it is when its data
    version says it was made from the same split, tokenizer and settings."""
    from transformers import AutoTokenizer

    settings = settings or TokenizeSettings()
    splits_path = layout.stage(UPSTREAM)
    target = layout.stage(STAGE)
    tokenizer = AutoTokenizer.from_pretrained(
        read_model_ref(layout.models), trust_remote_code=model_ref_trusts_code(layout.models)
    )
    template = chat_template_of(tokenizer, settings)
    version = tokenized_data_version(splits_path, tokenizer, settings)
    stamp = target / DATA_VERSION_FILE
    if stamp.is_file() and stamp.read_text().strip() == version and (target / REPORT_FILE).is_file():
        log(f"split, tokenizer and config unchanged (version {version[:12]}): keeping {target}")
        if not (target / SETTINGS_FILE).is_file():  # an output from before the file was written: same settings
            (target / SETTINGS_FILE).write_text(json.dumps(plain(settings), indent=2) + "\n")
        report = json.loads((target / REPORT_FILE).read_text())
        result = TokenizedResult(target, version, True, 0, 0, report, template)
    else:
        source = datasets.load_from_disk(str(splits_path))
        cache = encoding_cache(layout.cache(STAGE), tokenizer, settings)
        rows, tokenize_report = tokenize_splits(source, tokenizer, settings, cache=cache, log=log)  # saves the cache
        log(f"{cache.misses} records encoded, {cache.hits} unchanged ones read from the cache")
        refuse_empty_splits(tokenize_report.to_dict(), target)
        report_text = json.dumps(tokenize_report.to_dict(), indent=2) + "\n"
        with atomic_dir(target) as staging:
            rows.save_to_disk(str(staging))
            (staging / CONTENT_DIGEST_FILE).write_text(saved_dataset_digest(staging) + "\n")
            (staging / REPORT_FILE).write_text(report_text)
            (staging / SETTINGS_FILE).write_text(json.dumps(plain(settings), indent=2) + "\n")
            save_tokenizer(tokenizer, template, staging / TOKENIZER_DIR)
            (staging / DATA_VERSION_FILE).write_text(version + "\n")
        save_rejections([_rejection(item) for item in tokenize_report.dropped], layout.rejected(STAGE))
        # The report as a later run reads it back from REPORT_FILE: same result, rebuilt or reused.
        result = TokenizedResult(target, version, False, cache.misses, cache.hits, json.loads(report_text), template)
    log(f"tokenized {result.kept} records into {result.rows} rows; dropped {result.records_in - result.kept}")
    return result


def recorded_settings(layout: DataLayout) -> TokenizeSettings:
    """The settings the tokenized output was built with (what training saw: the prompt template, the
    chat template setting, `learn`), or the defaults for an output written before they were recorded."""
    path = layout.stage(STAGE) / SETTINGS_FILE
    if not path.is_file():
        return TokenizeSettings()
    values = json.loads(path.read_text(encoding="utf-8"))
    known = {name: value for name, value in values.items() if name in TokenizeSettings.__dataclass_fields__}
    return TokenizeSettings(**known)


class EmptyTokenizedError(ValueError):
    """A split with no row left after tokenization: nothing to train or evaluate on."""


def refuse_empty_splits(report: dict, target: Path) -> None:
    """Fail before writing when a split came out empty, so the previous output stays in place."""
    empty = [name for name, split in report["splits"].items() if split["rows"] == 0]
    if not empty:
        return
    reasons = Counter(item["reason"] for item in report["dropped"] if item["split"] in empty)
    why = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common()) or "the split was empty"
    raise EmptyTokenizedError(
        f"no row left in the {' and '.join(empty)} split after tokenization ({why}); the previous output in "
        f"{target} is kept. Raise max_length, or set overlength: truncate, or check the split."
    )


def _rejection(dropped: DroppedRecord) -> Rejection:
    return Rejection(
        stage=STAGE, reason=dropped.reason, source=dropped.source, record_id=dropped.id, detail=f"split {dropped.split}"
    )
