"""What each raw file holds, counted a second way, against what the plaintext stage made of it.

The stage's counts check compares its output with its own metadata, so rows a parser never
hands out cannot show there. Here each file is counted again by a second, simpler reader: the
non-blank lines of JSONL, the rows Python's csv module finds (not pandas, which the stage
uses), the elements of a JSON array (Python's lenient json), the rows in a Parquet footer, one
document per HTML page, the tuples of INSERT/REPLACE VALUES lists and the lines of COPY blocks
of a SQL dump (`sql_count`, a scanner of its own). That count must equal the file's records
plus its row-level quarantine entries. A file quarantined as a whole, or from some point on (an
entry whose source is the file itself), is accounted for by that entry. In a SQL dump a
rejected statement holds as many rows as its source says (`statement 4 (line 40, 3 rows)`), and
the rows of tables with no text column, which the stage lists in its metadata rather than
quarantining, count as accounted for.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.parse.sql import ROWS_HELD
from llm_pipeline.stages.plaintext.compressed import CompressedFileError, decompressed
from llm_pipeline.stages.plaintext.sql_count import count_sql_rows


@dataclass(frozen=True)
class FileAccount:
    name: str
    fmt: str
    raw_count: int | None  # None: the second reader could not read it either
    items: int  # records + rows held by row-level quarantine entries (+ rows of unmapped SQL tables)
    whole_file_entries: int  # quarantine entries naming the file itself

    @property
    def balanced(self) -> bool:
        if self.whole_file_entries or self.raw_count is None:
            return True  # the loss, if any, is named by a quarantine entry
        return self.items == self.raw_count


def raw_count(path: Path, fmt: str) -> int | None:
    """How many rows, lines, elements or documents the file holds, by a reader of its own."""
    try:
        with decompressed(path) as (readable, _):
            return _COUNTERS[fmt](readable)
    except (CompressedFileError, OSError, ValueError, UnicodeError, csv.Error):
        return None  # unreadable to the second reader too: the stage must have quarantined it


def _jsonl_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _csv_rows(path: Path) -> int:
    from llm_pipeline.parse.tabular import detect_encoding, excel_separator, sniff_delimiter, unlimited_csv_fields

    encoding = detect_encoding(path)
    declared = excel_separator(path, encoding)
    with path.open(encoding=encoding, errors="replace", newline="") as handle, unlimited_csv_fields():
        # The delimiter matters only for where quoted fields (which may hold newlines) start.
        delimiter = declared or ("\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(handle.read(1 << 16)))
        handle.seek(0)
        rows = sum(1 for row in csv.reader(handle, delimiter=delimiter) if any(cell.strip() for cell in row))
    return max(0, rows - 1 - (1 if declared else 0))  # the header row and Excel's sep= line are no records


def _json_elements(path: Path) -> int:
    value = json.loads(path.read_bytes().decode("utf-8-sig"))
    return len(value) if isinstance(value, list) else 1


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _one_document(path: Path) -> int:
    return 1


_COUNTERS = {
    "jsonl": _jsonl_lines,
    "csv": _csv_rows,
    "json": _json_elements,
    "parquet": _parquet_rows,
    "html": _one_document,
    "sql": count_sql_rows,
}


def file_of(source: str, names: set[str]) -> str | None:
    """The raw file a record's or entry's source names (`csv/a b.csv row 3` -> `csv/a b.csv`)."""
    if source in names:
        return source
    found = None
    for index, character in enumerate(source):
        if character == " " and source[:index] in names:
            found = source[:index]  # the longest: a file name may hold spaces
    return found


def account(
    files: Iterable[tuple[Path, str, str]],
    record_sources: Iterable[str],
    rejection_sources: Iterable[str],
    unmapped_table_rows: Mapping[str, int] | None = None,
) -> list[FileAccount]:
    """One account per raw file (path, name, format) from the sources of the stage's records and of
    its quarantine entries (a page's one record names the file itself; so does a whole-file entry),
    and the rows of SQL tables the stage did not map (`{"sql/a.sql:table": rows}`, its metadata)."""
    files = list(files)
    names = {name for _, name, _ in files}
    formats = {name: fmt for _, name, fmt in files}
    items: Counter[str] = Counter()
    whole: Counter[str] = Counter()
    for source in record_sources:
        if (name := file_of(source, names)) is not None:
            items[name] += 1
    for source in rejection_sources:
        if (name := file_of(source, names)) is None:
            continue
        if source == name:
            whole[name] += 1
        elif formats[name] == "sql" and source.startswith(f"{name} statement "):
            # A rejected statement holds the rows its source names, maybe none (a CREATE, a refused COPY TO).
            items[name] += int(held.group(1)) if (held := ROWS_HELD.search(source)) else 0
        else:
            items[name] += 1
    for key, rows in (unmapped_table_rows or {}).items():
        owners = [name for name in names if key.startswith(f"{name}:")]
        if owners:
            items[max(owners, key=len)] += rows  # the longest: a file name may hold a colon
    return [FileAccount(name, fmt, raw_count(path, fmt), items[name], whole[name]) for path, name, fmt in files]
