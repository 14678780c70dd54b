"""How many rows a SQL dump holds, counted by a scanner of its own for the raw-file accounting.

It reads no values and builds no statements: it only tells code from strings, quoted names,
comments and dollar-quoted bodies, and counts the parenthesised groups at the top level of each
INSERT's (or REPLACE's) VALUES list and the data lines of each `COPY ... FROM stdin` block. An
INSERT counts only where it opens a statement (or follows SQL Server's `SET ... ON` lines and
other INSERTs of a batch), so an INSERT inside a trigger or function body is not a row. What it
shares with the parser is the file's encoding and the dialect guess, which decides only whether
a backslash escapes a quote.
"""

from __future__ import annotations

import re
from pathlib import Path

from llm_pipeline.parse.sql_dialect import SAMPLE_CHARS, guess_dialect
from llm_pipeline.parse.tabular import detect_encoding

_INSERTS = frozenset({"INSERT", "REPLACE"})
_CLAUSES = frozenset({"ON", "RETURNING"})  # ON DUPLICATE KEY / ON CONFLICT: parentheses there are not rows
_COPY_END = re.compile(r"^\\\.[ \t]*\r?$", re.M)


def count_sql_rows(path: Path) -> int:
    """Rows of every INSERT/REPLACE VALUES list and COPY block in the dump at `path`."""
    with open(path, encoding=detect_encoding(path), errors="replace", newline="") as handle:
        text = handle.read()
    dialect = guess_dialect(text[:SAMPLE_CHARS])
    return _Counter(text, mysql=dialect == "mysql", brackets=dialect != "postgresql").count()


class _Counter:
    def __init__(self, text: str, *, mysql: bool, brackets: bool) -> None:
        self.text, self.mysql, self.brackets = text, mysql, brackets
        self.rows = 0
        self._new_statement()

    def _new_statement(self) -> None:
        self.kind = ""  # the statement's first word (SET lines of a batch give way to its INSERT)
        self.depth = 0
        self.in_values = False
        self.in_clauses = False
        self.copy_from_stdin = False

    def count(self) -> int:
        pattern, pos = _pattern(";", self.mysql, self.brackets), 0
        while match := pattern.search(self.text, pos):
            pos, kind = match.end(), match.lastgroup
            if kind == "delimiter_line":
                pattern = _pattern(match.group("new_delimiter"), self.mysql, self.brackets)
                self._new_statement()
            elif kind in ("end", "go"):
                if self.copy_from_stdin:
                    pos = self._count_copy_lines(pos)
                self._new_statement()
            elif kind == "dollar":
                closing = self.text.find(match.group(), pos)
                pos = len(self.text) if closing < 0 else closing + len(match.group())
            elif kind == "open":
                self.depth += 1
                self.rows += self.depth == 1 and self.in_values and not self.in_clauses
            elif kind == "close":
                self.depth = max(self.depth - 1, 0)
            elif kind == "word" and self.depth == 0:
                self._word(match.group().upper())
        return self.rows

    def _word(self, word: str) -> None:
        if not self.kind:
            self.kind = word
        elif word in _INSERTS and (self.kind == "SET" or (self.kind in _INSERTS and self.in_values)):
            # A SQL Server batch: the INSERT after its SET lines, or after the rows of another.
            self.kind, self.in_values, self.in_clauses = word, False, False
        elif word == "VALUES" and self.kind in _INSERTS and not self.in_values:
            self.in_values = True
        elif word in _CLAUSES and self.in_values:
            self.in_clauses = True
        elif self.kind == "COPY" and word == "STDIN":
            self.copy_from_stdin = True

    def _count_copy_lines(self, pos: int) -> int:
        """Count the data lines after a COPY ... FROM stdin statement; return where they end."""
        start = self.text.find("\n", pos)
        if start < 0:
            return len(self.text)
        end = _COPY_END.search(self.text, start + 1)
        stop = end.start() if end else len(self.text)
        block = self.text[start + 1 : stop]
        self.rows += block.count("\n") + (1 if block and not block.endswith("\n") else 0)
        return end.end() if end else len(self.text)


def _pattern(delimiter: str, mysql: bool, brackets: bool) -> re.Pattern:
    # MySQL: backslash escapes, "..." is a string and # starts a comment; elsewhere quotes only
    # double, and E'...' strings (PostgreSQL) take backslash escapes.
    escaped_single = r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'"
    if mysql:
        strings = [escaped_single, r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', r"`[^`]*`"]
        comments = [r"--[^\n]*", r"\#[^\n]*", r"/\*.*?\*/"]
    else:
        strings = [rf"(?<![\w$])[Ee]{escaped_single}", r"'[^']*(?:''[^']*)*'", r'"[^"]*(?:""[^"]*)*"']
        comments = [r"--[^\n]*", r"/\*.*?\*/"]
    if brackets:
        strings.append(r"\[[^\]\n]*\]")  # SQL Server and SQLite quote names in brackets
    dollar = r"|(?P<dollar>(?<![\w$])\$(?:[A-Za-z_]\w*)?\$)" if not mysql else ""
    return re.compile(
        rf"""(?P<delimiter_line>^[ \t]*DELIMITER[ \t]+(?P<new_delimiter>\S+)[ \t]*\r?$)
        |(?P<go>^[ \t]*GO(?:[ \t]+\d+)?[ \t]*\r?$)
        |(?P<skip>{"|".join([*comments, *strings])})
        {dollar}
        |(?P<end>{re.escape(delimiter)})
        |(?P<open>\()|(?P<close>\))
        |(?P<word>(?<![\w$])[A-Za-z_][\w$]*)""",
        re.X | re.S | re.M | re.I,
    )
