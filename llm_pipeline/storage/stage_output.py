"""Reading and writing stage outputs as Arrow datasets, swapped into place whole (storage.atomic)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import datasets
import pyarrow as pa
from datasets.table import InMemoryTable

from llm_pipeline.records import RECORD_FIELDS, REJECTION_FIELDS, Record, Rejection
from llm_pipeline.storage.atomic import atomic_dir, scratch_dir

# A chat record's turns are list<struct<role, content>>; every other field is a string.
MESSAGES_FEATURE = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
RECORD_FEATURES = datasets.Features(
    {name: MESSAGES_FEATURE if name == "messages" else datasets.Value("string") for name in RECORD_FIELDS}
)
REJECTION_FEATURES = datasets.Features({name: datasets.Value("string") for name in REJECTION_FIELDS})


def save_dataset(dataset: datasets.Dataset | datasets.DatasetDict, target: Path) -> None:
    # An empty dataset saved with the default shard count cannot be loaded back.
    empty = isinstance(dataset, datasets.Dataset) and len(dataset) == 0
    datasets.disable_progress_bars()  # per-shard bars only clutter the run logs
    with atomic_dir(target) as staging:
        dataset.save_to_disk(str(staging), num_shards=1 if empty else None)


def save_rows(rows: Iterable[dict], features: datasets.Features, target: Path) -> int:
    """Stream rows into an Arrow dataset at `target` without holding them all in memory."""
    with scratch_dir(target) as scratch:
        with ArrowRowWriter(scratch / "rows.arrow", features) as writer:
            for row in rows:
                writer.add(row)
        return save_tables([read_arrow_table(scratch / "rows.arrow")], features, target)


class ArrowRowWriter:
    """Rows appended in batches to an Arrow stream file (the format `datasets` stores data in)."""

    def __init__(self, path: Path, features: datasets.Features, batch_rows: int = 1000) -> None:
        self._schema = features.arrow_schema
        self._batch_rows = batch_rows
        self._sink = pa.OSFile(str(path), "wb")
        self._writer = pa.ipc.new_stream(self._sink, self._schema)
        self._rows: list[dict] = []

    def add(self, row: dict) -> None:
        self._rows.append(row)
        if len(self._rows) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def __enter__(self) -> ArrowRowWriter:
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self._flush()
            self._writer.close()
        finally:
            self._sink.close()


def read_arrow_table(path: Path) -> pa.Table:
    """An Arrow stream file as a table, memory-mapped: its rows are read from disk as they are used.

    (pyarrow directly: `datasets.Dataset.from_file` spends milliseconds per file on fingerprints.)
    """
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_stream(source).read_all()


def save_tables(parts: list[pa.Table], features: datasets.Features, target: Path) -> int:
    """Save Arrow tables of `features` (memory-mapped ones are not read into memory first), in
    order, as one dataset at `target`; return its rows."""
    table = pa.concat_tables(parts) if parts else features.arrow_schema.empty_table()
    dataset = datasets.Dataset(InMemoryTable(table), info=datasets.DatasetInfo(features=features))
    save_dataset(dataset, target)
    return len(dataset)


def save_records(records: Iterable[Record], target: Path) -> int:
    return save_rows((record.to_dict() for record in records), RECORD_FEATURES, target)


def save_rejections(rejections: Iterable[Rejection], target: Path) -> int:
    """Write a stage's quarantine (possibly empty) and return how many entries it holds."""
    return save_rows((rejection.to_dict() for rejection in rejections), REJECTION_FEATURES, target)


def load_records(path: Path) -> datasets.Dataset:
    if not path.exists():
        raise FileNotFoundError(f"stage output {path} does not exist: materialize the upstream asset first")
    return datasets.load_from_disk(str(path))


def iter_records(dataset: datasets.Dataset, batch_size: int = 1000) -> Iterator[Record]:
    for batch in dataset.iter(batch_size=batch_size):
        for index in range(len(batch["id"])):
            yield Record.from_dict({name: batch[name][index] for name in RECORD_FIELDS})
