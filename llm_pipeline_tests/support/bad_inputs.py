"""A corpus of bad raw input, one file per kind of fault, written by the tests into a temporary
data directory (the 50 MB line too, so nothing large lives in the repository).

Each entry says what the pipeline must make of its file: text it recovers and keeps, or the
quarantine reason(s) it must record. Either way the file leaves a trace; nothing vanishes.
"""

from __future__ import annotations

import codecs
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ARTICLE = (
    "Compost needs air, water and a mix of green kitchen scraps and brown leaves. Turn the heap every week "
    "so that the middle stays warm and the scraps break down into dark, crumbly soil."
)
NESTING_DEPTH = 50_000
HUGE_LINE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class BadInput:
    kind: str  # what is wrong with the file, in words
    path: str  # under raw/: the folder names the format
    content: Callable[[], bytes]
    keeps: str | None = None  # text a record from this file must contain
    reasons: tuple[str, ...] = ()  # quarantine reasons (prefixes) this file must produce
    never_keeps: str | None = None  # text no record from this file may contain
    bug: str | None = None  # a known fault in the pipeline that this file shows; the test is xfail
    on_its_own: bool = False  # slow to get through: tested alone, against a deadline, not in the shared run

    def write(self, raw: Path) -> Path:
        target = raw / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.content())
        return target


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>Compost</title></head><body>{body}</body></html>"


def _nested_divs() -> bytes:
    return (
        "<html><body>" + "<div>" * NESTING_DEPTH + f"<p>{ARTICLE}</p>" + "</div>" * NESTING_DEPTH + "</body></html>"
    ).encode()


def _huge_line() -> bytes:
    sentence = "A very long note about compost heaps and garden soil. "
    text = sentence * (HUGE_LINE_BYTES // len(sentence))
    return json.dumps({"text": text}).encode() + b"\n"


def _mysql(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


QA = [
    (
        "How do I keep basil from bolting?",
        "Pinch off the flower buds as soon as they appear and harvest the top leaves often.",
    ),
    (
        "Why does bread dough need to rest?",
        "Resting lets the gluten relax and the yeast produce gas, so the loaf rises evenly.",
    ),
    (
        "How should I treat a minor burn?",
        "Cool it under running water for twenty minutes, then cover it loosely with a clean dressing.",
    ),
]
QA_CSV = "question,answer\n" + "".join(f'"{q}","{a}"\n' for q, a in QA)

BAD_INPUTS: list[BadInput] = [
    # --- HTML ---------------------------------------------------------------------------
    BadInput(
        "truncated HTML (cut inside a tag)",
        "html/truncated.html",
        lambda: _page(f"<article><p>{ARTICLE}</p><p>Turn the he").encode()[:-40] + b"<p cla",
        keeps="Compost needs air",
    ),
    BadInput(
        "binary file named .html (gzip)",
        "html/gzipped.html",
        lambda: gzip.compress(_page(ARTICLE).encode()),
        reasons=("not_html",),
    ),
    BadInput(
        "binary file named .html (random bytes)",
        "html/random.html",
        lambda: bytes((i * 7919 + 13) % 256 for i in range(8192)),
        reasons=("not_html",),
    ),
    BadInput(
        "HTML declaring ISO-8859-1, encoded in UTF-8",
        "html/lying_latin1.html",
        lambda: _page(
            "<p>Caf\u00e9 cr\u00e8me: steam the milk to about sixty degrees, never hotter, or it scalds.</p>",
            '<meta charset="iso-8859-1">',
        ).encode("utf-8"),
        keeps="Caf\u00e9 cr\u00e8me",
    ),
    BadInput(
        "HTML declaring UTF-8, encoded in cp1252",
        "html/lying_utf8.html",
        lambda: _page(
            "<p>Cr\u00e8me br\u00fbl\u00e9e needs a hot grill \u2013 a torch is better.</p>", '<meta charset="utf-8">'
        ).encode("cp1252"),
        keeps="Cr\u00e8me br\u00fbl\u00e9e",
    ),
    BadInput(
        f"{NESTING_DEPTH:,} nested <div>s", "html/nested.html", _nested_divs, keeps="Compost needs air", on_its_own=True
    ),
    BadInput("zero-byte HTML", "html/zero.html", lambda: b"", reasons=("empty_file",)),
    BadInput("whitespace-only HTML", "html/blank.html", lambda: b" \n\t\n", reasons=("empty_file",)),
    BadInput(
        "HTML with no visible text",
        "html/scripts_only.html",
        lambda: _page("<script>var a = 1;</script><style>p {}</style>").encode(),
        reasons=("empty_text",),
    ),
    BadInput(
        "HTML in UTF-16 without a BOM",
        "html/utf16.html",
        lambda: _page(f"<p>{ARTICLE}</p>").encode("utf-16-le"),
        keeps="Compost needs air",
    ),
    # --- CSV ----------------------------------------------------------------------------
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
    # --- SQL ----------------------------------------------------------------------------
    BadInput(
        "SQL with a syntax error",
        "sql/syntax_error.sql",
        lambda: (
            "CREATE TABLE posts (id int, body text);\n"
            f"INSERT INTO posts VALUES (1, {_mysql(QA[0][1])});\n"
            "INSERT INTO posts VALUES (2, 'two' 'three' ,, );\n"
        ).encode(),
        keeps="Pinch off the flower buds",
        reasons=("bad_sql_statement",),
    ),
    BadInput(
        "SQL with an unterminated string",
        "sql/unterminated.sql",
        lambda: (
            "CREATE TABLE posts (id int, body text);\n"
            f"INSERT INTO posts VALUES (1, {_mysql(QA[1][1])});\n"
            "INSERT INTO posts VALUES (2, 'this string never ends);\n"
        ).encode(),
        keeps="Resting lets the gluten relax",
        reasons=("bad_sql_statement",),
    ),
    BadInput(
        "dump mixing COPY and INSERT",
        "sql/copy_and_insert.sql",
        lambda: (
            "CREATE TABLE public.notes (id integer, body text);\n"
            "COPY public.notes (id, body) FROM stdin;\n"
            f"1\t{QA[0][1]}\n2\t{QA[1][1]}\n\\.\n"
            f"INSERT INTO public.notes VALUES (3, '{QA[2][1]}');\n"
        ).encode(),
        keeps="Cool it under running water",
    ),
    BadInput(
        "COPY block with no end marker",
        "sql/copy_unended.sql",
        lambda: (
            "CREATE TABLE public.notes (id integer, body text);\n"
            "COPY public.notes (id, body) FROM stdin;\n"
            f"1\t{QA[0][1]}\n"
        ).encode(),
        reasons=("bad_sql_statement",),
    ),
    BadInput("zero-byte SQL", "sql/zero.sql", lambda: b"", reasons=("empty_file",)),
    BadInput(
        "binary file named .sql",
        "sql/binary.sql",
        lambda: b"SQLite format 3\x00" + bytes(range(256)) * 16,
        reasons=("bad_sql_statement", "unreadable_file", "no_records"),
    ),
    # --- JSONL --------------------------------------------------------------------------
    BadInput(
        "JSONL with a broken line",
        "jsonl/broken.jsonl",
        lambda: (json.dumps({"text": ARTICLE}) + '\n{"text": "no closing brace"\n').encode(),
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with invalid UTF-8",
        "jsonl/invalid_utf8.jsonl",
        lambda: json.dumps({"text": ARTICLE}).encode() + b'\n{"text": "caf\xe9 \xff\xfe"}\n',
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with a raw NUL byte",
        "jsonl/nul.jsonl",
        lambda: json.dumps({"text": ARTICLE}).encode() + b'\n{"text": "a raw\x00 NUL inside a string"}\n',
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL line that is an array",
        "jsonl/array_line.jsonl",
        lambda: (json.dumps({"text": ARTICLE}) + '\n["an", "array", "not", "an", "object"]\n').encode(),
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL objects without a text field",
        "jsonl/no_text.jsonl",
        lambda: b'{"id": 1, "score": 0.5}\n{"id": 2, "score": 0.25}\n',
        reasons=("no_text_fields",),
    ),
    BadInput(
        "JSONL text that is not a string",
        "jsonl/not_string.jsonl",
        lambda: (
            json.dumps({"text": ARTICLE}) + '\n{"text": 42}\n{"text": null}\n{"text": {"nested": "object"}}\n'
        ).encode(),
        keeps="Compost needs air",
        never_keeps="{'nested': 'object'}",
        reasons=("nested_value",),
    ),
    BadInput("zero-byte JSONL", "jsonl/zero.jsonl", lambda: b"", reasons=("empty_file",)),
    BadInput("JSONL of blank lines only", "jsonl/blank_lines.jsonl", lambda: b"\n\n   \n", reasons=("no_records",)),
    BadInput(
        "JSONL in UTF-16 without a BOM",
        "jsonl/utf16.jsonl",
        lambda: (json.dumps({"text": ARTICLE}) + "\n").encode("utf-16-le"),
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with a UTF-8 BOM",
        "jsonl/bom.jsonl",
        lambda: codecs.BOM_UTF8 + json.dumps({"text": ARTICLE}).encode() + b"\n",
        keeps="Compost needs air",
    ),
    BadInput(
        "50 MB on a single line",
        "jsonl/huge_line.jsonl",
        _huge_line,
        keeps="A very long note about compost",
        on_its_own=True,
    ),
]
