"""CSV/TSV -> rows: nothing cut, nothing silently dropped, encodings and delimiters found."""

from __future__ import annotations

import codecs
import tracemalloc

import pytest

from llm_pipeline.parse.mixed_encoding import MIXED_ENCODING
from llm_pipeline.parse.tabular import detect_encoding, iter_rows, sniff_delimiter


def _write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _collect(path, **kwargs):
    errors: list[tuple[str, str]] = []
    rows = list(iter_rows(path, on_error=lambda loc, why: errors.append((loc, why)), **kwargs))
    return rows, errors


def test_long_multiline_cells_with_commas_are_kept_whole(tmp_path):
    long_cell = "x" * 300
    huge_cell = "word, " * 40_000  # 240,000 characters: over the csv module's default limit
    path = _write(tmp_path, f'id,text\n1,{long_cell}\n2,"first line\nsecond, with comma"\n3,"{huge_cell}"\n')
    rows, errors = _collect(path)
    assert errors == []
    assert rows == [
        {"id": "1", "text": long_cell},
        {"id": "2", "text": "first line\nsecond, with comma"},
        {"id": "3", "text": huge_cell},
    ]


def test_empty_and_na_cells_stay_as_written(tmp_path):
    rows, _ = _collect(_write(tmp_path, "a,b,c\n,NA,null\n"))
    assert rows == [{"a": "", "b": "NA", "c": "null"}]


def test_ragged_row_is_reported_with_its_physical_line_and_skipped(tmp_path):
    # Line 3-4 hold one quoted two-line cell, so the ragged row is record 4 but line 5.
    path = _write(tmp_path, 'a,b\n1,2\n3,"two\nlines"\n5,6,7\n8,9\n')
    rows, errors = _collect(path)
    assert rows == [{"a": "1", "b": "2"}, {"a": "3", "b": "two\nlines"}, {"a": "8", "b": "9"}]
    assert errors == [("line 5", "ragged row: 3 fields, the header has 2")]


def test_ragged_first_row_does_not_shift_the_columns(tmp_path):
    # pandas alone would silently turn the first column into the index here.
    rows, errors = _collect(_write(tmp_path, "a,b\n1,2,3\n4,5\n"))
    assert rows == [{"a": "4", "b": "5"}]
    assert [loc for loc, _ in errors] == ["line 2"]


def test_ragged_rows_are_located_across_chunks(tmp_path):
    lines = ["a,b"] + [f"{i},{i}" if i % 7 else f"{i},{i},extra" for i in range(1, 50)]
    rows, errors = _collect(_write(tmp_path, "\n".join(lines) + "\n"), chunksize=5)
    assert [loc for loc, _ in errors] == [f"line {i + 1}" for i in range(7, 50, 7)]
    assert len(rows) == 49 - len(errors)


def test_without_on_error_a_ragged_row_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="line 3"):
        list(iter_rows(_write(tmp_path, "a,b\n1,2\n3,4,5\n")))


def test_short_row_is_padded_with_empty_cells(tmp_path):
    rows, errors = _collect(_write(tmp_path, "a,b,c\n1,2\n"))
    assert rows == [{"a": "1", "b": "2", "c": ""}] and errors == []


def test_unterminated_quote_keeps_earlier_rows_and_reports_where_it_starts(tmp_path):
    rows, errors = _collect(_write(tmp_path, 'a,b\n1,2\n3,"never closed\n4,5\n'), chunksize=1000)
    assert rows == [{"a": "1", "b": "2"}]
    assert len(errors) == 1 and errors[0][0] == "line 3"
    assert "rest of the file is skipped" in errors[0][1]


def test_header_names_are_stripped_and_cells_keep_entity_like_text_as_written(tmp_path):
    # A cell is text, not HTML: html.unescape would turn `&timestamp=` into `×tamp=` (a legacy
    # entity needs no semicolon) and `&lt;` in a code answer into `<`.
    url = "/feed?id=1&timestamp=2&section=3&copy=4"
    code = "Write &lt;br&gt; in HTML, &amp; for an ampersand, &#8211; for a dash."
    path = _write(tmp_path, f' show_id , title &amp; year\ns1,{url}\ns2,"{code}"\n')
    rows, errors = _collect(path)
    assert errors == []
    assert rows == [{"show_id": "s1", "title &amp; year": url}, {"show_id": "s2", "title &amp; year": code}]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-32", "utf-32"),
        ("cp1252", None),
        ("latin-1", None),
    ],
)
def test_encodings_are_detected(tmp_path, encoding, expected):
    path = _write(tmp_path, "name,city\nJosé,Zürich\nRenée,Besançon\n", encoding=encoding)
    if expected:
        assert detect_encoding(path) == expected
    rows, _ = _collect(path)
    assert rows == [{"name": "José", "city": "Zürich"}, {"name": "Renée", "city": "Besançon"}]


@pytest.mark.parametrize(
    ("text", "name", "delimiter"),
    [
        ("a;b\n1,5;2\n", "data.csv", ";"),
        ("a\tb\n1,5\t2\n", "data.tsv", "\t"),
        ("a|b\n1,5|2\n", "data.txt", "|"),
        ('a,b\n"1;5",2\n', "data.csv", ","),
    ],
)
def test_delimiter_is_sniffed(tmp_path, text, name, delimiter):
    rows, _ = _collect(_write(tmp_path, text, name=name))
    expected_a = "1;5" if delimiter == "," else "1,5"
    assert rows == [{"a": expected_a, "b": "2"}]


def test_sniff_delimiter_falls_back_to_the_header_line():
    assert sniff_delimiter("one;two;three\n") == ";"
    assert sniff_delimiter("single\nvalue\n") == ","


def test_empty_file_and_header_only_file_have_no_rows(tmp_path):
    assert _collect(_write(tmp_path, "")) == ([], [])
    assert _collect(_write(tmp_path, "a,b\n", name="header.csv")) == ([], [])


def test_big_endian_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "be.csv"
    path.write_bytes(codecs.BOM_UTF16_BE + "word,gloss\nStra\u00dfe,street\n\u6771\u4eac,Tokyo\n".encode("utf-16-be"))
    rows, errors = _collect(path)
    assert (
        rows == [{"word": "Stra\u00dfe", "gloss": "street"}, {"word": "\u6771\u4eac", "gloss": "Tokyo"}]
        and errors == []
    )


@pytest.mark.parametrize(("bom", "encoding"), [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")])
def test_utf32_with_a_bom_is_not_read_as_utf16(tmp_path, bom, encoding):
    # The UTF-32-LE BOM (FF FE 00 00) starts with the UTF-16-LE one (FF FE).
    path = tmp_path / "utf32.csv"
    path.write_bytes(bom + "word,gloss\nStra\u00dfe,street\n\U0001f600,smile\n".encode(encoding))
    assert detect_encoding(path) == "utf-32"
    assert _collect(path) == (
        [{"word": "Stra\u00dfe", "gloss": "street"}, {"word": "\U0001f600", "gloss": "smile"}],
        [],
    )


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_utf32_without_a_bom_is_read_as_utf32_not_as_utf8_with_nuls(tmp_path, encoding):
    path = tmp_path / "utf32.csv"
    path.write_bytes("word,gloss\nStra\u00dfe,street\n\u6771\u4eac,Tokyo\n".encode(encoding))
    assert detect_encoding(path) == encoding
    assert _collect(path) == (
        [{"word": "Stra\u00dfe", "gloss": "street"}, {"word": "\u6771\u4eac", "gloss": "Tokyo"}],
        [],
    )


def test_cp1252_quotes_and_dashes_are_not_read_as_latin1_controls(tmp_path):
    path = _write(tmp_path, "tip\n\u201cSteam it\u201d \u2013 at 60 \u00b0C\n", encoding="cp1252")
    assert _collect(path) == ([{"tip": "\u201cSteam it\u201d \u2013 at 60 \u00b0C"}], [])


def test_memory_stays_flat_however_large_the_file(tmp_path):
    """Rows are read in chunks: peak memory is one chunk (and the encoding check's blocks),
    the same for a file four times larger, and far below reading the larger file whole."""
    cell = "a fairly long description of a film, with commas, quoted " * 2

    def csv_of(rows: int):
        return _write(
            tmp_path, "id,description\n" + "".join(f'{i},"{cell}{i}"\n' for i in range(rows)), name=f"{rows}.csv"
        )

    def peak_while_reading(path, chunksize: int) -> tuple[int, int]:
        tracemalloc.start()
        try:
            count = sum(1 for _ in iter_rows(path, chunksize=chunksize))
            return count, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = csv_of(10_000), csv_of(40_000)
    assert peak_while_reading(small, 2_000)[0] == 10_000  # also a warm-up: first-call allocations
    _, small_peak = peak_while_reading(small, 2_000)
    large_rows, large_peak = peak_while_reading(large, 2_000)
    _, whole_peak = peak_while_reading(large, 100_000)
    assert large_rows == 40_000
    assert large_peak < 1.2 * small_peak + 256 * 1024
    assert whole_peak > 2 * large_peak


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised(tmp_path, encoding):
    # Without a BOM such a file is also valid UTF-8 (ASCII plus NULs): read as UTF-8 it would
    # keep a NUL between every two characters.
    path = tmp_path / "glossary.csv"
    path.write_bytes("term,definition\ncaf\u00e9,a small restaurant serving coffee\n".encode(encoding))
    assert detect_encoding(path) == encoding
    assert list(iter_rows(path)) == [{"term": "caf\u00e9", "definition": "a small restaurant serving coffee"}]


def test_lines_in_different_encodings_are_each_decoded_right(tmp_path):
    path = tmp_path / "menu.csv"
    path.write_bytes(
        b"title,body\n"
        + "Caf\u00e9,Steam the milk for a caf\u00e9 cr\u00e8me \u2013 not too hot.\n".encode("utf-8")
        + "Cr\u00eape,Rest the cr\u00eape batter \u2013 an hour.\n".encode("cp1252")
    )
    assert detect_encoding(path) == MIXED_ENCODING
    assert [row["title"] for row in iter_rows(path)] == ["Caf\u00e9", "Cr\u00eape"]
    assert [row["body"] for row in iter_rows(path, chunksize=1)][1] == "Rest the cr\u00eape batter \u2013 an hour."


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_an_excel_sep_line_names_the_delimiter_and_is_not_a_row(tmp_path, bom):
    # Excel writes `sep=;` before the header to name the delimiter; the cells hold commas, so a
    # sniffer alone could pick ",".
    path = tmp_path / "excel.csv"
    path.write_bytes(bom + "sep=;\r\nname;note\r\nJos\u00e9;a, b, c\r\nRen\u00e9e;d, e\r\n".encode())
    rows, errors = _collect(path)
    assert errors == []
    assert rows == [{"name": "Jos\u00e9", "note": "a, b, c"}, {"name": "Ren\u00e9e", "note": "d, e"}]


def test_after_an_excel_sep_line_bad_rows_are_still_located_by_their_physical_line(tmp_path):
    rows, errors = _collect(_write(tmp_path, "sep=|\na|b\n1|2\n5|6|7\n8|9\n"))
    assert rows == [{"a": "1", "b": "2"}, {"a": "8", "b": "9"}]
    assert errors == [("line 4", "ragged row: 3 fields, the header has 2")]
    rows, errors = _collect(_write(tmp_path, 'sep=;\na;b\n1;2\n3;"never closed\n4;5\n', name="quote.csv"))
    assert rows == [{"a": "1", "b": "2"}]
    assert [loc for loc, _ in errors] == ["line 4"]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("question;answer\nCafé?;Steam the milk for a café crème.\nCrêpe?;Rest the crêpe batter.\n", "cp1252"),
        (
            "otázka;odpověď\nProč?;Příliš žluťoučký kůň úpěl ďábelské ódy.\n"
            "Kde?;Řeka teče přes město a večer je tam klid.\n",
            "cp1250",
        ),
    ],
)
def test_short_legacy_text_is_decoded_in_its_own_code_page(tmp_path, text, encoding):
    # On a few lines the Latin code pages tie; French must not come out as "crčme".
    path = tmp_path / "short.csv"
    path.write_bytes(text.encode(encoding))
    rows = list(iter_rows(path))
    assert [list(row.values()) for row in rows] == [line.split(";") for line in text.splitlines()[1:]]
