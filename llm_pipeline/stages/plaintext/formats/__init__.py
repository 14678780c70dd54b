"""The raw formats: one module each, named by the folder under raw/ that holds its files.

A format module has a `Settings` dataclass (its part of the stage's config, `PlaintextSettings.<format>`)
and `read(path, name, settings, report) -> Iterator[Record | Rejection]`, called with its own
`Settings`. Adding a format is one module here and one line in `REGISTRY`: the stage's settings,
its Dagster config, the parse cache key, the raw source assets and the sensor all follow it.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from llm_pipeline.stages.plaintext.formats import csv, html, json, jsonl, parquet, sql

# Folder under raw/ -> its module; files enter the stage in this order.
REGISTRY: dict[str, ModuleType] = {
    "html": html,
    "csv": csv,
    "sql": sql,
    "jsonl": jsonl,
    "json": json,
    "parquet": parquet,
}
FORMATS = tuple(REGISTRY)
"""The folders under raw/ that are read, in the order their files enter the stage."""


def raw_files(raw: Path) -> list[tuple[Path, str, str]]:
    """(path, name relative to raw/, format) of every raw file, format by format."""
    from llm_pipeline.storage.raw_files import list_raw_files

    return [(path, path.relative_to(raw).as_posix(), fmt) for fmt in FORMATS for path in list_raw_files(raw / fmt)]
