"""CSV / TSV files -> rows as {column: cell}, decoded, nothing cut, ragged rows reported.

A cell comes out exactly as the file holds it: a CSV is text, not HTML, so `&copy=` or `&lt;`
are left alone (html.unescape would turn `&timestamp=` into `×tamp=`). An Excel `sep=;` first
line names the delimiter and is not a row.

pandas reads the file in chunks (`dtype=str`, no NA conversion), so memory stays flat however
large the file and a cell of any length comes back whole. Two pandas habits are worked around:

- With a header row, a first data row that is longer than the header makes pandas silently
  use the first column as the index (or, with `index_col=False`, drop the extra cells of every
  row). So the header is read as an ordinary row (`header=None`): its width becomes the
  expected width and every longer row is a bad line, reported, whatever its position.
- pandas numbers bad lines by record (a quoted multi-line cell counts as one line); the user
  needs the physical line to find it, so `_LineLocator` re-reads the file to translate.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import itertools
import os
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from llm_pipeline.parse.encodings import likeliest_encoding
from llm_pipeline.parse.errors import OnError, report
from llm_pipeline.parse.mixed_encoding import MIXED_ENCODING, has_mixed_lines
from llm_pipeline.parse.mixed_encoding import register as register_mixed_encoding

# Cheap and idempotent: lets `open()` and pandas accept MIXED_ENCODING, detected or configured.
register_mixed_encoding()

_CANDIDATE_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024
_DETECT_BYTES = 1024 * 1024
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    # Python's "utf-16"/"utf-32" read the BOM, pick the byte order and drop the BOM from the text.
    # UTF-32 first: its little-endian BOM (FF FE 00 00) starts with UTF-16's (FF FE).
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Excel's first line naming the delimiter, e.g. `sep=;`.
_EXCEL_SEPARATOR = re.compile(r"sep=([^\r\n\"])\r?\n?")
_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
_EOF_IN_QUOTE = re.compile(r"starting at row (\d+)")


def detect_encoding(path: str | os.PathLike) -> str:
    """The encoding of a text file: its BOM, else UTF-8 if the whole file is valid UTF-8, else
    charset_normalizer's guess (checked against the whole file), else cp1252, else latin-1.

    The whole file is checked because one bad byte at the end would otherwise stop a long read
    halfway; the check streams, so it costs one extra read, not memory.
    """
    with open(path, "rb") as f:
        head = f.read(_DETECT_BYTES)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    for wide in (_utf32_without_bom(head), _utf16_without_bom(head)):  # UTF-32 first: it also has NUL pairs
        if wide and _decodes_whole_file(path, wide):
            return wide
    if _decodes_whole_file(path, "utf-8"):
        return "utf-8"
    if has_mixed_lines(path):  # UTF-8 lines beside legacy ones: decode line by line
        return MIXED_ENCODING
    guess = likeliest_encoding(head)
    for encoding in ([guess] if guess else []) + ["cp1252"]:
        if _decodes_whole_file(path, encoding):
            return encoding
    return "latin-1"  # every byte is a latin-1 character, so this always reads


def _utf32_without_bom(head: bytes) -> str | None:
    """UTF-32 text with no BOM: mostly-Latin code points are one byte and three NULs, so three of
    every four bytes are NUL, after the character (LE) or before it (BE)."""
    quads = len(head) // 4
    if quads < 4:
        return None
    columns = [head[offset::4][:quads].count(0) for offset in range(4)]
    if min(columns[1:]) > 0.9 * quads and columns[0] < 0.5 * quads:
        return "utf-32-le"
    if min(columns[:3]) > 0.9 * quads and columns[3] < 0.5 * quads:
        return "utf-32-be"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text with no BOM is also valid UTF-8 (ASCII and NULs), so look at where the NULs sit:
    mostly-Latin UTF-16 has a NUL in every other byte, at odd offsets (LE) or even ones (BE)."""
    pairs = len(head) // 2
    if pairs < 4:
        return None
    odd_nuls, even_nuls = head[1::2].count(0), head[0::2].count(0)
    if odd_nuls > 0.4 * pairs and even_nuls < 0.05 * pairs:
        return "utf-16-le"
    if even_nuls > 0.4 * pairs and odd_nuls < 0.05 * pairs:
        return "utf-16-be"
    return None


def _decodes_whole_file(path: str | os.PathLike, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as f:
            while block := f.read(_DETECT_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that `csv.Sniffer` sees in a sample of the file.

    When the sniffer gives up (or names a character absent from the header line), the
    candidate that occurs most often in the header line wins; a single-column file gives ",".
    """
    # Cut at the last newline so that a half-read row does not mislead the sniffer.
    if "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    header = sample.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=_CANDIDATE_DELIMITERS).delimiter
    except csv.Error:
        delimiter = None
    if delimiter is not None and delimiter in header:
        return delimiter
    counts = {d: header.count(d) for d in _CANDIDATE_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def iter_rows(
    path: str | os.PathLike,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    on_error: OnError | None = None,
    chunksize: int = 10_000,
) -> Iterator[dict[str, str]]:
    """Every row of a CSV/TSV file as {column: cell}.

    Cells are strings exactly as written, never cut: "" stays "" and "NA" stays "NA", `&amp;`
    stays `&amp;`; column names are stripped. An Excel `sep=X` first line sets the delimiter
    (unless `delimiter` is given) and is skipped. A row with more cells than the header is
    skipped and reported as `on_error("line N", reason)` with N its physical line (raises
    `ParseError`, a ValueError, when `on_error` is None). A row with fewer cells is padded with "".
    """
    import pandas as pd

    path = Path(path)
    encoding = encoding or detect_encoding(path)
    declared = excel_separator(path, encoding)
    if delimiter is None:
        delimiter = declared or ("\t" if path.suffix.lower() == ".tsv" else _sniff_file(path, encoding))
    progress = _Progress(directive_lines=1 if declared else 0)
    locator = _LineLocator(path, encoding, delimiter)
    failure: Exception | None = None
    with contextlib.closing(locator):
        try:
            yield from _rows_by_pandas(path, encoding, delimiter, chunksize, progress, locator, on_error)
        except pd.errors.ParserError as error:
            failure = error
        if failure is None:
            return
        # pandas drops the whole chunk that holds an unterminated quote; the csv module takes
        # over from the last row handed out, up to the record pandas named, so no good row is lost.
        match = _EOF_IN_QUOTE.search(str(failure))
        stop = int(match.group(1)) if match else None
        yield from _rows_by_csv_module(path, encoding, delimiter, stop, progress, on_error)
        where = f"line {locator.line_of(stop + 1)}" if stop is not None else "end of file"
        report(on_error, where, f"unreadable CSV, the rest of the file is skipped: {failure}")


@dataclasses.dataclass
class _Progress:
    """What has been handed out, so a second reader can carry on where the first stopped."""

    directive_lines: int = 0  # an Excel `sep=` line before the header: neither header nor row
    columns: list[str] | None = None
    rows_done: int = 0
    reported: set[int] = dataclasses.field(default_factory=set)  # record numbers, 1-based


def _rows_by_pandas(path, encoding, delimiter, chunksize, progress, locator, on_error):
    import pandas as pd

    try:
        reader = _open_reader(path, encoding, delimiter, chunksize, progress.directive_lines)
    except pd.errors.EmptyDataError:  # an empty file has no rows
        return
    with reader:
        while True:
            try:
                chunk, bad_lines = _next_chunk(reader)
            except StopIteration:
                return
            for record, reason in bad_lines:
                progress.reported.add(record)
                report(on_error, f"line {locator.line_of(record)}", reason)
            rows = chunk.itertuples(index=False, name=None)
            if progress.columns is None:
                progress.columns = _column_names(next(rows, ()))
            for row in rows:
                progress.rows_done += 1
                yield {name: _cell(value) for name, value in zip(progress.columns, row, strict=False)}


def _open_reader(path, encoding, delimiter, chunksize, skip_lines):
    import pandas as pd

    # Skipped lines still count in pandas' record numbers, as they do for `_LineLocator`.
    return pd.read_csv(
        path,
        sep=delimiter,
        header=None,  # see the module docstring: the header is read as a row
        dtype=str,
        na_filter=False,
        keep_default_na=False,
        encoding=encoding,
        encoding_errors="strict",
        on_bad_lines="warn",
        skiprows=skip_lines,
        chunksize=chunksize,
        engine="c",
    )


def _rows_by_csv_module(path, encoding, delimiter, stop, progress, on_error):
    """Rows after the first `progress.rows_done`, up to record index `stop` (0-based), read
    with the csv module under the same rules as the pandas path (blank lines skipped, longer
    rows reported, shorter rows padded)."""
    skip = progress.rows_done
    with open(path, encoding=encoding, newline="") as f, unlimited_csv_fields():
        reader = csv.reader(f, delimiter=delimiter)
        start_line = 1
        header_seen = False
        for index, cells in enumerate(reader):
            if stop is not None and index >= stop:
                return
            line, start_line = start_line, reader.line_num + 1
            if not cells or index < progress.directive_lines:
                continue
            if not header_seen:
                header_seen = True
                progress.columns = progress.columns or _column_names(tuple(cells))
                continue
            if len(cells) > len(progress.columns):
                if index + 1 not in progress.reported:
                    progress.reported.add(index + 1)
                    report(
                        on_error,
                        f"line {line}",
                        f"ragged row: {len(cells)} fields, the header has {len(progress.columns)}",
                    )
                continue
            if skip:
                skip -= 1
                continue
            progress.rows_done += 1
            yield {
                name: _cell(value)
                for name, value in itertools.zip_longest(progress.columns, cells[: len(progress.columns)], fillvalue="")
            }


@contextlib.contextmanager
def unlimited_csv_fields():
    """csv refuses fields over 128 KiB by default; our cells may be any length."""
    old_limit = csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(old_limit)


def excel_separator(path: Path, encoding: str) -> str | None:
    """The delimiter an Excel `sep=X` first line names, or None when the file has no such line."""
    with open(path, encoding=encoding, newline="") as f:
        match = _EXCEL_SEPARATOR.fullmatch(f.readline())
    return match.group(1) if match else None


def _sniff_file(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        return sniff_delimiter(f.read(_SNIFF_CHARS))


def _next_chunk(reader) -> tuple[object, list[tuple[int, str]]]:
    """The next chunk, and the bad lines pandas skipped while reading it.

    pandas only tells about skipped lines through `ParserWarning`s, so they are caught around
    this one call (not around the caller's code, which runs between chunks).
    """
    from pandas.errors import ParserWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParserWarning)
        chunk = next(reader)
    bad_lines = []
    for warning in caught:
        found = list(_BAD_LINE.finditer(str(warning.message)))
        if not found:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        for match in found:
            record, expected, saw = (int(g) for g in match.groups())
            bad_lines.append((record, f"ragged row: {saw} fields, the header has {expected}"))
    return chunk, bad_lines


def _column_names(header: tuple) -> list[str]:
    """Header cells stripped; blank names become colN, repeats get a .N suffix."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(header, start=1):
        name = _cell(raw).strip() or f"col{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names


def _cell(value: object) -> str:
    return value if isinstance(value, str) else ""  # not a str: a padded cell of a short row


class _LineLocator:
    """Translates pandas' record numbers (1-based, blank lines counted, a multi-line quoted
    record counted once) into the physical line where the record starts.

    It re-reads the file with the csv module, only when a bad row occurs, and keeps its place
    so that a file with many bad rows is still read once.
    """

    def __init__(self, path: Path, encoding: str, delimiter: str) -> None:
        self._path, self._encoding, self._delimiter = path, encoding, delimiter
        self._file = None
        self._reader = None
        self._records_read = 0

    def line_of(self, record: int) -> int:
        if self._reader is None or self._records_read >= record:
            self._open()
        with unlimited_csv_fields(), contextlib.suppress(StopIteration, csv.Error):
            while self._records_read < record - 1:
                next(self._reader)
                self._records_read += 1
        return self._reader.line_num + 1

    def _open(self) -> None:
        self.close()
        self._file = open(self._path, encoding=self._encoding, newline="")
        self._reader = csv.reader(self._file, delimiter=self._delimiter)
        self._records_read = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
