"""Which SQL dialect wrote a dump, from the evidence of its first 64 KiB.

It matters for one thing: only MySQL reads backslash escapes in plain strings, so reading a
PostgreSQL dump as MySQL turns `\\n` into a newline, lets a value ending in a backslash swallow
the rest of the file and cuts `$$ ... $$` function bodies at their `;`. One character (a
backtick in a comment) must not decide that, so the guess rests on what dumps of each dialect
write as code: a dump tool's header decides outright; otherwise every dialect scores one point
per kind of its markers found outside strings and comments, and MySQL wins only with the most.

Strings and comments are removed twice, once by MySQL's rules and once by standard SQL's, and a
marker counts only where both agree it is code: a string that one rule set misreads (a
PostgreSQL value ending in a backslash, a MySQL `\\'`) can then not smuggle markers in.
"""

from __future__ import annotations

import re
from typing import Literal

Dialect = Literal["mysql", "postgresql", "sqlite", "sqlserver"]

SAMPLE_CHARS = 64 * 1024
_HEADER_LINES = 5

_HEADERS: dict[Dialect, re.Pattern] = {
    "mysql": re.compile(r"^-- (?:MySQL|MariaDB) dump\b", re.M),
    "postgresql": re.compile(r"^-- (?:PostgreSQL database dump|Dumped (?:from database version|by pg_dump))\b", re.M),
}

# Kinds of markers, each scoring one point when found in code.
_MARKERS: dict[Dialect, tuple[re.Pattern, ...]] = {
    "mysql": (
        re.compile(r"^/\*!\d{5}", re.M),  # version-conditional hints
        re.compile(r"\bENGINE\s*=\s*\w", re.I),
        re.compile(r"^\s*(?:UN)?LOCK\s+TABLES\b", re.I | re.M),
        re.compile(r"^\s*DELIMITER\s+\S+\s*$", re.I | re.M),
        re.compile(r"\bAUTO_INCREMENT\b", re.I),
        # Backticks as identifier quotes, where a table or column name stands.
        re.compile(
            r"(?:\b(?:INTO|TABLE|EXISTS|TABLES|REFERENCES|KEY|UPDATE)\s+|^\s*\(?\s*)`[^`\n]+`",
            re.I | re.M,
        ),
    ),
    "postgresql": (
        re.compile(
            r"^\s*SET\s+(?:search_path|standard_conforming_strings|client_encoding|check_function_bodies|"
            r"default_tablespace|default_table_access_method|row_security)\b",
            re.I | re.M,
        ),
        re.compile(r"^\s*COPY\b[^;\n]*\bFROM\s+stdin\s*;", re.I | re.M),
        re.compile(r"\b(?:AS|DO)\s+\$(?:[A-Za-z_]\w*)?\$", re.I),  # function bodies in dollar quotes
        re.compile(r"::\s*[A-Za-z_]"),  # casts
        re.compile(r"(?<![\w$])[Ee]'"),  # E'..' strings
        re.compile(r"^\\(?:c|connect)\b", re.M),  # psql meta-command
        re.compile(r"\bpg_catalog\.|\bOWNER\s+TO\b", re.I),
    ),
    "sqlite": (
        re.compile(r"^PRAGMA\s+foreign_keys\s*=\s*OFF\s*;", re.I | re.M),
        re.compile(r"^BEGIN\s+TRANSACTION\s*;", re.I | re.M),
        re.compile(r"\b(?:replace|char)\s*\(", re.I),  # the sqlite3 shell writes newlines so
    ),
    "sqlserver": (
        re.compile(r"^\s*GO\s*$", re.I | re.M),
        re.compile(r"\bSET\s+IDENTITY_INSERT\b", re.I),
        re.compile(r"\[dbo\]\s*\.", re.I),
        re.compile(r"(?<![\w$])N'"),
    ),
}

# Strings and comments by each rule set (MySQL's `quoted identifiers` are code). Quote characters stay (so that E'..' and casts after a
# string still show); only what is inside is blanked. `/*!` hints are MySQL code, never blanked.
_COPY_DATA = r"^COPY\b[^\n]*\bFROM\s+stdin\s*;[^\n]*\n(?P<copy>.*?)^\\\.$"
_MYSQL_NOISE = re.compile(
    rf"(?P<keep>`[^`\n]*`)|'(?P<s>(?:[^'\\]|\\.)*)'|\"(?P<d>(?:[^\"\\]|\\.)*)\"|--[^\n]*|#[^\n]*|/\*(?!!).*?\*/|{_COPY_DATA}",
    re.S | re.M | re.I,
)
_STANDARD_NOISE = re.compile(
    rf"(?<![\w$])[Ee]'(?P<e>(?:[^'\\]|\\.)*)'|'(?P<s>[^']*)'|\$(?P<tag>(?:[A-Za-z_]\w*)?)\$(?P<body>.*?)\$(?P=tag)\$|"
    rf"--[^\n]*|/\*(?!!).*?\*/|{_COPY_DATA}",
    re.S | re.M | re.I,
)


def guess_dialect(sample: str) -> Dialect | None:
    """The dialect that wrote `sample` (the start of a dump), or None when nothing points to one."""
    head = "".join(sample.splitlines(keepends=True)[:_HEADER_LINES])
    for dialect, header in _HEADERS.items():
        if header.search(head):
            return dialect
    code = _code_by_both_rules(sample)
    scores = {dialect: sum(bool(marker.search(code)) for marker in markers) for dialect, markers in _MARKERS.items()}
    best = max(scores, key=lambda dialect: (scores[dialect], dialect != "mysql"))  # a tie is not MySQL
    return best if scores[best] else None


def _code_by_both_rules(sample: str) -> str:
    """`sample` with what either rule set reads as string or comment blanked (its newlines kept,
    so that markers anchored at a line start still are)."""
    pieces, pos = [], 0
    for start, end in sorted(_noise_spans(_MYSQL_NOISE, sample) + _noise_spans(_STANDARD_NOISE, sample)):
        if end > pos:
            start = max(start, pos)
            pieces += [sample[pos:start], " " + "\n" * sample.count("\n", start, end)]
            pos = end
    pieces.append(sample[pos:])
    return "".join(pieces)


def _noise_spans(noise: re.Pattern, text: str) -> list[tuple[int, int]]:
    """Where the strings' insides (the named group a match ends on) and whole comments are."""
    return [match.span(match.lastgroup or 0) for match in noise.finditer(text) if match.lastgroup != "keep"]
