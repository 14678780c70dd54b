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
from llm_pipeline.storage.raw_files import RawListing, scan_raw

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


def scan_raw_folder(raw: Path, data_dir: Path) -> RawListing:
    """Everything under raw/ (storage.raw_files): the files of each format folder, format by format,
    named relative to raw/ (`csv/a.csv`), and every entry that is not read, with its reason."""
    return scan_raw(raw, FORMATS, data_dir)


def format_of(name: str) -> str:
    """The format of a raw file from its name relative to raw/: the folder it lies in."""
    return name.split("/", 1)[0]
