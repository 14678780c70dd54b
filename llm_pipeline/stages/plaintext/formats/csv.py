"""CSV / TSV exports: every row through the column mapping, ragged rows quarantined with their line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.stages.plaintext.formats.rows import drain, map_rows, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item
from llm_pipeline.stages.plaintext.settings import IngestSettings


def read(path: Path, name: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.tabular import iter_rows

    if not path.stat().st_size:
        yield rejection("empty_file", name)
        return
    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        errors.append(rejection("bad_csv_row", f"{name} {location}", detail=reason))

    rows = iter_rows(path, delimiter=settings.csv_delimiter, encoding=settings.csv_encoding, on_error=on_error)
    for item in map_rows(rows, name, settings.csv_mapping, report, "csv"):
        yield from drain(errors)
        yield item
    yield from drain(errors)
