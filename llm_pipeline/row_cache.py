"""Values computed from one record's content alone, kept between runs, keyed by the record id.

A stage that judges each record on its own (quality and phrase filters, MinHash signatures)
need not judge an unchanged record twice. Ids are content hashes, so a key names the content;
what else decides the values (settings, code, library versions) names the file: one Arrow file
per fingerprint under the stage's cache folder. A run keeps the rows it used and the rows it
added, and nothing else, so the cache tracks the current data rather than growing forever.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa

KEY = "key"
STALE_STAGING_SECONDS = 24 * 3600


class RowCache:
    """Rows of `schema` (which has a string `key` column) under `folder`/<fingerprint>.arrow."""

    def __init__(self, folder: Path, fingerprint: str, schema: pa.Schema) -> None:
        if schema.field(KEY).type != pa.string():
            raise ValueError(f"a row cache schema needs a string {KEY!r} column")
        self.folder = folder
        self.path = folder / f"{fingerprint}.arrow"
        self.schema = schema
        self.hits = 0
        self.misses = 0
        self._opened_at = time.time()
        self._old = _read(self.path, schema)
        keys = self._old.column(KEY).to_pylist() if self._old is not None else []
        self._position = {key: index for index, key in enumerate(keys)}
        self._columns: dict[str, list] | None = None  # the old rows as Python values, made on first `get`
        self._reused: list[int] = []
        self._added: list[dict] = []
        self._added_tables: list[pa.Table] = []
        self._seen: set[str] = set()

    def get(self, key: str) -> dict | None:
        """The cached row of `key` (it will be kept), or None."""
        index = self._position.get(key)
        if index is None:
            self.misses += 1
            return None
        self.hits += 1
        self._reuse(key, index)
        if self._columns is None:
            self._columns = self._old.to_pydict()
        return {name: values[index] for name, values in self._columns.items()}

    def put(self, key: str, row: dict) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self._added.append({**row, KEY: key})

    def get_table(self, keys: list[str]) -> tuple[np.ndarray, pa.Table]:
        """Whether each key is cached, and the cached rows of those that are, in order (Arrow
        throughout: for rows of token lists, Python objects would cost more than the work saved)."""
        found = np.zeros(len(keys), dtype=bool)
        indices = []
        for number, key in enumerate(keys):
            index = self._position.get(key)
            if index is not None:
                found[number] = True
                indices.append(index)
                self._reuse(key, index)
        self.hits += len(indices)
        self.misses += len(keys) - len(indices)
        if not indices:
            return found, self.schema.empty_table()
        return found, self._old.take(pa.array(indices, pa.int64()))

    def put_table(self, keys: list[str], table: pa.Table) -> None:
        """Add rows (all of the schema's columns but the key) computed by this run."""
        fresh = []
        for number, key in enumerate(keys):
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(number)
        if fresh:
            rows = table.take(pa.array(fresh, pa.int64())) if len(fresh) < len(keys) else table
            rows = rows.append_column(KEY, pa.array([keys[number] for number in fresh], pa.string()))
            self._added_tables.append(rows.select(self.schema.names).cast(self.schema))

    def _reuse(self, key: str, index: int) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self._reused.append(index)

    def save(self) -> None:
        """Write the rows used or added by this run; drop files of other fingerprints no run used since."""
        parts = []
        if self._old is not None and self._reused:
            parts.append(self._old.take(pa.array(self._reused, pa.int64())))
        if self._added:
            parts.append(pa.Table.from_pylist(self._added, schema=self.schema))
        parts.extend(self._added_tables)
        table = pa.concat_tables(parts) if parts else self.schema.empty_table()
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".{self.path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            with pa.OSFile(str(staging), "wb") as sink, pa.ipc.new_stream(sink, self.schema) as writer:
                writer.write_table(table)
            os.replace(staging, self.path)  # readers see the old file or the new one, whole
        finally:
            staging.unlink(missing_ok=True)
        for leftover in self.folder.glob(".*.tmp-*"):  # a killed writer's; a live one finishes within a day
            try:
                if leftover.stat().st_mtime < self._opened_at - STALE_STAGING_SECONDS:
                    leftover.unlink()
            except FileNotFoundError:
                pass
        for other in self.folder.glob("*.arrow"):
            try:
                if other != self.path and other.stat().st_mtime < self._opened_at:
                    other.unlink()
            except FileNotFoundError:
                pass


def _read(path: Path, schema: pa.Schema) -> pa.Table | None:
    """The cached table, or None when there is none or it is unreadable or of another schema."""
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_stream(source).read_all()
    except (OSError, pa.ArrowException):
        return None
    return table if table.schema.equals(schema) else None
