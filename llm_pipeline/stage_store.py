"""Reading and writing stage outputs as Arrow datasets, atomically.

A stage writes into a temporary sibling folder and renames it into place, so a crash in the
middle of a write never leaves a half-written stage where the next stage would read it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import datasets
import pyarrow as pa
from datasets.table import InMemoryTable

from llm_pipeline.document import RECORD_FIELDS, REJECTION_FIELDS, Record, Rejection

RECORD_FEATURES = datasets.Features({name: datasets.Value("string") for name in RECORD_FIELDS})
REJECTION_FEATURES = datasets.Features({name: datasets.Value("string") for name in REJECTION_FIELDS})


# Work folders beside a stage: .<stage>.<kind>-<host>-<pid>-<random>. Host and pid tell whether
# the writer that owns one is still alive, so leftovers of a killed writer can be swept.
_WORK_KINDS = ("tmp", "cache", "old")


def _work_dir(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def sweep_dead_writers(folder: Path, name: str = "*") -> None:
    """Remove work folders (of the target `name`, or of any) in `folder` left by writers of this
    host that no longer run (killed mid-write)."""
    host = socket.gethostname()
    for kind in _WORK_KINDS:
        for leftover in folder.glob(f".{name}.{kind}-{host}-*"):
            pid = leftover.name.rsplit(f".{kind}-{host}-", 1)[1].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _exchange(new: Path, old: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(_LIBC, "renameat2", None) if _LIBC is not None else None
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(old), rename_exchange) == 0


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@contextlib.contextmanager
def scratch_dir(target: Path) -> Iterator[Path]:
    """A work folder beside `target` for the duration of the block (swept later if its writer is killed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_dead_writers(target.parent, target.name)
    scratch = _work_dir(target, "tmp")
    scratch.mkdir()
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces `target` in one atomic step.

    Readers see the old output or the new one, never a half-written one and never none: the
    swap is one `renameat2(RENAME_EXCHANGE)` where the system has it, two renames elsewhere.
    """
    with scratch_dir(target) as staging:
        yield staging
        if not target.exists():
            staging.rename(target)
        elif _exchange(staging, target):
            pass  # staging now holds the previous output; leaving the scratch folder removes it
        else:
            retired = _work_dir(target, "old")
            target.rename(retired)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)


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
