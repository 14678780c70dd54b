"""Values computed from one record's content alone, kept between runs, keyed by the record id.

A stage that judges or encodes each record on its own (quality and phrase filters, MinHash
signatures, token ids) need not do it twice for an unchanged record. Ids are content hashes, so
a key names the content; what else decides the values (settings, code, library versions) names
the file: one Arrow file per fingerprint under the stage's cache folder. A run writes the rows it
used and the rows it added, and nothing else, so the cache follows the current data instead of
growing forever; files of other fingerprints that no run has used since this one started go.

Memory stays bounded for large corpora: the old file is memory-mapped, rows are turned into
Python values a chunk at a time, and the new file is written in batches.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

KEY = "key"
STALE_STAGING_SECONDS = 24 * 3600
_CHUNK_ROWS = 8192
_CHUNKS_KEPT = 16  # Python copies of at most this many chunks at once


class _CacheFile:
    """The Arrow file of one fingerprint: its keys, its memory-mapped rows, and how to replace it."""

    def __init__(self, folder: Path, fingerprint: str, schema: pa.Schema) -> None:
        if schema.field(KEY).type != pa.string():
            raise ValueError(f"a row cache schema needs a string {KEY!r} column")
        self.folder = folder
        self.path = folder / f"{fingerprint}.arrow"
        self.schema = schema
        self.hits = 0
        self.misses = 0
        self._opened_at = time.time()
        old = self._table()
        self._position = (
            {key: index for index, key in enumerate(old.column(KEY).to_pylist())} if old is not None else {}
        )

    def _table(self) -> pa.Table | None:
        """The previous run's rows, memory-mapped (opened again in a worker process after pickling)."""
        if "_old" not in self.__dict__:
            self._old = _read(self.path, self.schema)
        return self._old

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_old", None)  # a memory map does not travel to a worker process; it reopens there
        return state

    def _publish(self, batches: Iterable[pa.RecordBatch | pa.Table]) -> None:
        """Write the new file from `batches` and swap it in; drop other fingerprints' stale files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".{self.path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            with pa.OSFile(str(staging), "wb") as sink, pa.ipc.new_stream(sink, self.schema) as writer:
                for batch in batches:
                    if batch.num_rows:
                        writer.write(batch.select(self.schema.names).cast(self.schema))
            os.replace(staging, self.path)  # readers see the old file or the new one, whole
        finally:
            staging.unlink(missing_ok=True)
        for leftover in self.folder.glob(".*.tmp-*"):  # a killed writer's; a live one finishes within a day
            _remove_if_older(leftover, self._opened_at - STALE_STAGING_SECONDS)
        for other in self.folder.glob("*.arrow"):
            if other != self.path:
                _remove_if_older(other, self._opened_at)


class RowCache(_CacheFile):
    """Rows of `schema` (with a string `key` column) as Python values: `get` what is there, `put`
    what a run computed, `save` once at the end."""

    def __init__(self, folder: Path, fingerprint: str, schema: pa.Schema) -> None:
        super().__init__(folder, fingerprint, schema)
        self._chunks: OrderedDict[int, dict[str, list]] = OrderedDict()
        self._reused: list[int] = []
        self._added: list[dict] = []
        self._seen: set[str] = set()

    def get(self, key: str) -> dict | None:
        """The cached row of `key` (it will be kept), or None."""
        index = self._position.get(key)
        if index is None:
            self.misses += 1
            return None
        self.hits += 1
        if key not in self._seen:
            self._seen.add(key)
            self._reused.append(index)
        chunk, offset = divmod(index, _CHUNK_ROWS)
        values = self._chunks.get(chunk)
        if values is None:
            values = self._table().slice(chunk * _CHUNK_ROWS, _CHUNK_ROWS).to_pydict()
            self._chunks[chunk] = values
            if len(self._chunks) > _CHUNKS_KEPT:
                self._chunks.popitem(last=False)
        else:
            self._chunks.move_to_end(chunk)
        return {name: column[offset] for name, column in values.items()}

    def put(self, key: str, row: dict) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self._added.append({**row, KEY: key})

    def save(self) -> None:
        """Write the rows used or added by this run."""

        def batches():
            old = self._table()
            for start in range(0, len(self._reused), _CHUNK_ROWS):
                yield old.take(pa.array(self._reused[start : start + _CHUNK_ROWS], pa.int64()))
            for start in range(0, len(self._added), _CHUNK_ROWS):
                yield pa.Table.from_pylist(self._added[start : start + _CHUNK_ROWS], schema=self.schema)

        self._publish(batches())


class TableCache(_CacheFile):
    """Rows served as Arrow tables, a batch at a time, to `datasets.map` workers (it pickles), for
    values such as token lists that would cost more as Python objects than to compute."""

    def found(self, keys: list[str]) -> np.ndarray:
        return np.fromiter((key in self._position for key in keys), dtype=bool, count=len(keys))

    def rows(self, keys: list[str]) -> pa.Table:
        """The cached rows of `keys` (each must be `found`), in order."""
        return self._table().take(pa.array([self._position[key] for key in keys], pa.int64()))

    def count(self, keys: list[str]) -> None:
        """Count the hits and misses of a run that looks these keys up (in whichever process)."""
        hits = int(self.found(keys).sum())
        self.hits += hits
        self.misses += len(keys) - hits

    def save_from(self, tables: Iterable[pa.Table]) -> None:
        """Write this run's rows (tables holding the schema's columns, `key` included), in batches."""
        self._publish(tables)


def _read(path: Path, schema: pa.Schema) -> pa.Table | None:
    """The cached table, or None when there is none or it is unreadable or of another schema."""
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_stream(source).read_all()
    except (OSError, pa.ArrowException):
        return None
    return table if table.schema.equals(schema) else None


def _remove_if_older(path: Path, moment: float) -> None:
    try:
        if path.stat().st_mtime < moment:
            path.unlink()
    except FileNotFoundError:
        pass
