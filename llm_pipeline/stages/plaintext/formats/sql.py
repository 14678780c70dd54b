"""SQL dumps: every row of every table with a text column, read and never executed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.columns import ColumnMapping, infer_mapping
from llm_pipeline.stages.plaintext.formats.rows import MAPPING_SAMPLE_ROWS, drain, mapped, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item


@dataclass(frozen=True)
class Settings:
    """How the SQL dumps under raw/sql/ are read."""

    tables: Mapping[str, ColumnMapping] = setting(
        factory=dict,
        help="{table: columns} to read from SQL dumps; only these tables are read. "
        "Empty: every table with a text column.",
    )


def read(path: Path, name: str, settings: Settings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.sql import UNSAFE_STATEMENT, iter_numbered_rows

    if not path.stat().st_size:
        yield rejection("empty_file", name)
        return
    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        kind = "unsafe_sql_statement" if reason.startswith(UNSAFE_STATEMENT) else "bad_sql_statement"
        errors.append(rejection(kind, f"{name} {location}", detail=reason))

    by_table: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    mappings: dict[str, ColumnMapping | None] = dict(settings.tables)

    def emit(table: str, rows: Iterable[tuple[int, dict]]) -> Iterator[Item]:
        mapping = mappings[table]
        key = f"{name}:{table}"
        for number, row in rows:
            if mapping is None:
                report.skipped_tables[key] = report.skipped_tables.get(key, 0) + 1
            else:
                yield mapped(mapping, row, f"{name} table {table} row {number}", "sql")

    # Numbers from the dump itself, so that a rejected statement does not shift the rows after it.
    for table, number, row in iter_numbered_rows(path, on_error=on_error):
        yield from drain(errors)
        if settings.tables and table not in settings.tables:
            mappings[table] = None
        if table in mappings:
            yield from emit(table, [(number, row)])
            continue
        by_table[table].append((number, row))
        if len(by_table[table]) >= MAPPING_SAMPLE_ROWS:
            yield from settle_table(table, by_table, mappings, name, report, emit)
    for table in list(by_table):
        yield from settle_table(table, by_table, mappings, name, report, emit)
    yield from drain(errors)
    for table, mapping in mappings.items():
        report.mappings[f"{name}:{table}"] = mapping.describe() if mapping else "not mapped (no text column)"


def settle_table(table, by_table, mappings, name, report, emit) -> Iterator[Item]:
    rows = by_table.pop(table)
    mappings[table] = infer_mapping([row for _, row in rows])
    yield from emit(table, rows)
