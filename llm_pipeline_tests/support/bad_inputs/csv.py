"""Bad CSV files."""

from __future__ import annotations

from llm_pipeline_tests.support.bad_inputs.common import QA, QA_CSV, BadInput

CSV_INPUTS: list[BadInput] = [
    BadInput(
        "CSV with ragged rows",
        "csv/ragged.csv",
        lambda: (QA_CSV + '"Ragged row",answer,with,extra,fields\n').encode(),
        keeps="Pinch off the flower buds",
        reasons=("bad_csv_row",),
    ),
    BadInput(
        "CSV with an unterminated quote",
        "csv/bad_quote.csv",
        lambda: (QA_CSV + '"An unterminated quote,that runs to the end of the file\n').encode(),
        keeps="Pinch off the flower buds",
        reasons=("bad_csv_row",),
    ),
    BadInput(
        "CSV mixing UTF-8 and cp1252 lines",
        "csv/mixed_encoding.csv",
        lambda: (
            b"title,body\n"
            + "Caf\u00e9,Steam the milk to about sixty degrees for a caf\u00e9 cr\u00e8me.\n".encode("utf-8")
            + "Cr\u00eape,Rest the cr\u00eape batter for an hour before it meets the pan.\n".encode("cp1252")
        ),
        keeps="caf\u00e9 cr\u00e8me",
    ),
    BadInput("CSV with only a header", "csv/header_only.csv", lambda: b"question,answer\n", reasons=("no_records",)),
    BadInput("zero-byte CSV", "csv/zero.csv", lambda: b"", reasons=("empty_file",)),
    BadInput(
        "CSV in UTF-16 without a BOM",
        "csv/utf16.csv",
        lambda: QA_CSV.encode("utf-16-le"),
        keeps="Pinch off the flower buds",
    ),
    BadInput(
        "CSV with NUL bytes in a cell",
        "csv/nul.csv",
        lambda: (
            QA_CSV + '"What is\x00 a NUL?","A byte of zero\x00 that C strings end on, found in files written badly."\n'
        ).encode(),
        keeps="Pinch off the flower buds",
    ),
    BadInput(
        "CSV whose cells look like HTML entities (&copy=, &lt;)",
        "csv/entity_like.csv",
        lambda: (
            b"question,answer\n"
            b'"How do I ask the feed for one section?",'
            b'"Request /feed?id=1&timestamp=2&section=3&copy=4; in HTML write &lt;br&gt;, not <br>."\n'
        ),
        keeps="/feed?id=1&timestamp=2&section=3&copy=4; in HTML write &lt;br&gt;",
        never_keeps="\u00d7tamp",
    ),
    BadInput(
        "CSV in UTF-32 with a BOM",
        "csv/utf32.csv",
        lambda: QA_CSV.encode("utf-32"),
        keeps="Pinch off the flower buds",
    ),
    BadInput(
        "CSV in UTF-32 without a BOM",
        "csv/utf32_no_bom.csv",
        lambda: QA_CSV.encode("utf-32-le"),
        keeps="Resting lets the gluten relax",  # read as UTF-8, NULs would sit between the letters
    ),
    BadInput(
        "CSV with an Excel sep= line",
        "csv/excel_sep.csv",
        lambda: ("sep=;\r\nquestion;answer\r\n" + "".join(f'"{q}";"{a}"\r\n' for q, a in QA)).encode(),
        keeps=f"{QA[0][0]}\n{QA[0][1]}",  # the header row is the header: question -> answer
    ),
]
