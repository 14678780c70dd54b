"""The raw formats: one reader module each, named by the folder under raw/ that holds its files.

A reader is `read(path, name, settings, report) -> Iterator[Record | Rejection]`; adding a format
is one module here and one line in `READERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from llm_pipeline.stages.plaintext.formats import csv, html, jsonl, sql

Reader = Callable[..., Iterator]

READERS: dict[str, Reader] = {
    "html": html.read,
    "csv": csv.read,
    "sql": sql.read,
    "jsonl": jsonl.read,
}
FORMATS = tuple(READERS)
"""The folders under raw/ that are read, in the order their files enter the stage."""


def raw_files(raw: Path) -> list[tuple[Path, str, str]]:
    """(path, name relative to raw/, format) of every raw file, format by format."""
    from llm_pipeline.storage.raw_files import list_raw_files

    return [(path, path.relative_to(raw).as_posix(), fmt) for fmt in FORMATS for path in list_raw_files(raw / fmt)]
