"""CSV / TSV exports: every row through the column mapping, ragged rows quarantined with their line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.formats.rows import drain, map_rows, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item


@dataclass(frozen=True)
class Settings:
    """How the CSV / TSV files under raw/csv/ are read."""

    columns: ColumnMapping | None = setting(
        None, "Column mapping for every CSV/TSV file. Unset: inferred per file and reported in metadata."
    )
    delimiter: str | None = setting(None, "CSV delimiter. Unset: sniffed per file (`.tsv` means tab).")
    encoding: str | None = setting(None, "CSV encoding. Unset: detected per file (BOM, UTF-8, then detection).")


def read(path: Path, name: str, settings: Settings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.tabular import iter_rows

    if not path.stat().st_size:
        yield rejection("empty_file", name)
        return
    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        errors.append(rejection("bad_csv_row", f"{name} {location}", detail=reason))

    rows = iter_rows(path, delimiter=settings.delimiter, encoding=settings.encoding, on_error=on_error)
    for item in map_rows(rows, name, settings.columns, report, "csv"):
        yield from drain(errors)
        yield item
    yield from drain(errors)
