"""Raw files and live databases -> records: each format's parser, then the column mapping,
with every failure kept.

`read_raw_file` and `read_database` yield `Record`s and `Rejection`s; nothing a source holds is
dropped without one or the other, and the `IngestReport` says, per file, per SQL table and per
database, what happened.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from llm_pipeline.column_mapping import ColumnMapping, infer_mapping
from llm_pipeline.document import PREVIEW_CHARS, Record, Rejection

STAGE = "plaintext"
DATABASE_FORMAT = "database"
# Rows read before a CSV file's, a SQL table's or a query's mapping is inferred.
MAPPING_SAMPLE_ROWS = 50
DEFAULT_DATABASE_CHUNK_SIZE = 1000

Item = Record | Rejection
# The extraction modes of `llm_pipeline.parse.html.extract_text` (not imported here: bs4 is heavy).
HtmlMode = Literal["main", "bs4", "full"]


@dataclass(frozen=True)
class DatabaseSource:
    """A query against a live database; `url`, or `url_env` naming the variable that holds it."""

    name: str
    query: str
    url: str | None = None
    url_env: str | None = None
    mapping: ColumnMapping | None = None  # None: inferred from the first rows
    chunk_size: int = DEFAULT_DATABASE_CHUNK_SIZE


@dataclass(frozen=True)
class IngestSettings:
    html_mode: HtmlMode = "main"
    html_selector: str | None = None
    csv_mapping: ColumnMapping | None = None
    csv_delimiter: str | None = None
    csv_encoding: str | None = None
    # {table: mapping}; when set, only these tables are read.
    sql_tables: Mapping[str, ColumnMapping] = field(default_factory=dict)
    jsonl_mapping: ColumnMapping | None = None
    databases: tuple[DatabaseSource, ...] = ()


@dataclass
class IngestReport:
    """What ingestion did, for the asset's metadata."""

    records: Counter = field(default_factory=Counter)  # per format
    rejected: Counter = field(default_factory=Counter)  # per reason
    files: Counter = field(default_factory=Counter)  # per format (a database counts as one)
    mappings: dict[str, str] = field(default_factory=dict)  # file, file:table or db:name -> mapping used
    skipped_tables: dict[str, int] = field(default_factory=dict)  # file:table -> rows not mapped

    def merge(self, other: IngestReport) -> None:
        self.records.update(other.records)
        self.rejected.update(other.rejected)
        self.files.update(other.files)
        self.mappings.update(other.mappings)
        self.skipped_tables.update(other.skipped_tables)

    def count(self, item: Item, fmt: str) -> Item:
        if isinstance(item, Record):
            self.records[fmt] += 1
        else:
            self.rejected[item.reason.split(":")[0]] += 1
        return item


def read_raw_file(path: Path, name: str, fmt: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    """Records and rejections of one raw file; `name` is how sources refer to it."""
    readers: dict[str, Callable[..., Iterator[Item]]] = {
        "html": _read_html,
        "csv": _read_csv,
        "sql": _read_sql,
        "jsonl": _read_jsonl,
    }
    report.files[fmt] += 1
    produced = False
    try:
        for item in readers[fmt](path, name, settings, report):
            produced = True
            yield report.count(item, fmt)
    except (OSError, ValueError, UnicodeError) as error:
        # A failure the parser could not attribute to one row: the rest of the file is quarantined whole.
        produced = True
        yield report.count(Rejection(stage=STAGE, reason="unreadable_file", source=name, detail=str(error)), fmt)
    if not produced:
        # A header without rows, blank lines, a binary file or a schema-only dump: say so rather than vanish.
        skipped = {table: rows for table, rows in report.skipped_tables.items() if table.startswith(f"{name}:")}
        detail = f"rows in tables without a text column: {skipped}" if skipped else f"no {fmt} row, line or text found"
        yield report.count(_rejection("no_records", name, detail=detail), fmt)


def read_database(source: DatabaseSource, report: IngestReport) -> Iterator[Item]:
    """Records and rejections of one database query; records' sources read `db:<name> row N`.

    Rows go through the same column mapping as CSV rows. A source that cannot be read (no URL,
    no connection, a bad query, a failure halfway) becomes one `unreadable_database`
    rejection; the rows read before a failure are kept.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from llm_pipeline.sources.database import hide_password, iter_query_rows, resolve_url

    name = f"db:{source.name}"
    report.files[DATABASE_FORMAT] += 1
    url = ""
    try:
        url = resolve_url(source.url, source.url_env)
        rows = iter_query_rows(url, source.query, chunk_size=source.chunk_size)
        for item in _map_rows(rows, name, source.mapping, report, DATABASE_FORMAT):
            yield report.count(item, DATABASE_FORMAT)
    except (SQLAlchemyError, ValueError) as error:
        detail = hide_password(f"{type(error).__name__}: {error}", url)
        yield report.count(_rejection("unreadable_database", name, detail=detail), DATABASE_FORMAT)


def _rejection(reason: str, source: str, preview: object = "", detail: str = "") -> Rejection:
    return Rejection(stage=STAGE, reason=reason, source=source, preview=str(preview)[:PREVIEW_CHARS], detail=detail)


def _read_html(path: Path, name: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.html import extract_text

    page = path.read_bytes()
    if not page.strip():
        yield _rejection("empty_file", name)
        return
    try:
        text = extract_text(page, mode=settings.html_mode, selector=settings.html_selector)
    except ValueError as error:
        yield _rejection("not_html", name, preview=page[:80], detail=str(error))
        return
    report.mappings[name] = f"html ({settings.html_selector or settings.html_mode})"
    yield Record.unsupervised(text, name, "html") if text.strip() else _rejection("empty_text", name)


def _read_jsonl(path: Path, name: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.jsonl import iter_objects

    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        errors.append(_rejection("bad_json_line", f"{name} {location}", detail=reason))

    seen_mappings: set[str] = set()
    empty = True
    for line, obj in iter_objects(path, on_error=on_error):
        yield from _drain(errors)
        empty = False
        mapping = settings.jsonl_mapping or infer_mapping([obj])
        source = f"{name} line {line}"
        if mapping is None:
            yield _rejection("no_text_fields", source, preview=obj, detail=f"keys: {sorted(obj)}")
            continue
        seen_mappings.add(mapping.describe())
        yield _mapped(mapping, obj, source, "jsonl")
    yield from _drain(errors)
    if empty and not path.stat().st_size:
        yield _rejection("empty_file", name)
    report.mappings[name] = "; ".join(sorted(seen_mappings)) or "none"


def _read_csv(path: Path, name: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.tabular import iter_rows

    if not path.stat().st_size:
        yield _rejection("empty_file", name)
        return
    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        errors.append(_rejection("bad_csv_row", f"{name} {location}", detail=reason))

    rows = iter_rows(path, delimiter=settings.csv_delimiter, encoding=settings.csv_encoding, on_error=on_error)
    for item in _map_rows(rows, name, settings.csv_mapping, report, "csv"):
        yield from _drain(errors)
        yield item
    yield from _drain(errors)


def _map_rows(rows: Iterator[dict], name: str, configured: ColumnMapping | None, report: IngestReport, fmt: str) -> Iterator[Item]:
    """Map the rows of one CSV file or query with the configured mapping, or one inferred from
    the first rows."""
    sample = list(itertools.islice(rows, MAPPING_SAMPLE_ROWS))
    mapping = configured or infer_mapping(sample)
    report.mappings[name] = mapping.describe() if mapping else "none"
    if mapping is None:
        if sample:
            total = len(sample) + sum(1 for _ in rows)
            yield _rejection("no_text_column", name, detail=f"{total} rows; columns: {list(sample[0])}")
        return
    for number, row in enumerate(itertools.chain(sample, rows), start=1):
        yield _mapped(mapping, row, f"{name} row {number}", fmt)


def _read_sql(path: Path, name: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.sql import UNSAFE_STATEMENT, iter_rows

    if not path.stat().st_size:
        yield _rejection("empty_file", name)
        return
    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        kind = "unsafe_sql_statement" if reason.startswith(UNSAFE_STATEMENT) else "bad_sql_statement"
        errors.append(_rejection(kind, f"{name} {location}", detail=reason))

    by_table: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    mappings: dict[str, ColumnMapping | None] = dict(settings.sql_tables)
    row_numbers: Counter = Counter()

    def emit(table: str, rows: Iterable[tuple[int, dict]]) -> Iterator[Item]:
        mapping = mappings[table]
        key = f"{name}:{table}"
        for number, row in rows:
            if mapping is None:
                report.skipped_tables[key] = report.skipped_tables.get(key, 0) + 1
            else:
                yield _mapped(mapping, row, f"{name} table {table} row {number}", "sql")

    for table, row in iter_rows(path, on_error=on_error):
        yield from _drain(errors)
        row_numbers[table] += 1
        if settings.sql_tables and table not in settings.sql_tables:
            mappings[table] = None
        if table in mappings:
            yield from emit(table, [(row_numbers[table], row)])
            continue
        by_table[table].append((row_numbers[table], row))
        if len(by_table[table]) >= MAPPING_SAMPLE_ROWS:
            yield from _settle_table(table, by_table, mappings, name, report, emit)
    for table in list(by_table):
        yield from _settle_table(table, by_table, mappings, name, report, emit)
    yield from _drain(errors)
    for table, mapping in mappings.items():
        report.mappings[f"{name}:{table}"] = mapping.describe() if mapping else "not mapped (no text column)"


def _settle_table(table, by_table, mappings, name, report, emit) -> Iterator[Item]:
    rows = by_table.pop(table)
    mappings[table] = infer_mapping([row for _, row in rows])
    yield from emit(table, rows)


def _mapped(mapping: ColumnMapping, row: Mapping[str, object], source: str, fmt: str) -> Item:
    result = mapping.to_record(row, source, fmt)
    if isinstance(result, Record):
        return result
    return _rejection(result, source, preview={key: row[key] for key in list(row)[:4]})


def _drain(errors: list[Rejection]) -> Iterator[Rejection]:
    while errors:
        yield errors.pop(0)
