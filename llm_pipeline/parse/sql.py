"""SQL dump -> (table, row) for every row, in the MySQL, PostgreSQL, SQLite and SQL Server dialects.

The file is read line by line and cut into statements by `_split_statements`, a small scanner
that knows quotes, comments and the dialects' batch/meta lines, so a dump of any size is held
one statement at a time. sqlparse is not the splitter: `sqlparse.split` lexes every token in
Python and ran at about 9,000 rows/s on the Chinook dump, and `sqlparse.parse` refuses
statements of more than 10,000 tokens (a multi-row INSERT). sqlparse's lexer does read the
CREATE TABLE statements, which are small, for column names and types.

Rows come from two places:
- INSERT ... VALUES (...), (...): the values are read by our own tokenizer (`_read_tuples`),
  typed as SQL literals: str, int, float, None, bool, bytes (X'..', 0x..).
- PostgreSQL `COPY table (cols) FROM stdin;` followed by tab-separated data lines up to `\\.`:
  text with `\\N` for NULL, typed with the column types of the table's CREATE TABLE, so that
  the same data gives the same rows as an INSERT dump.
Every other statement (CREATE, SET, DROP, LOCK ...) carries no rows and is skipped. Values are
literals; the only expressions evaluated are those the dump tools write for literals: CAST(x AS
type) (SSMS) and replace(), char() and `||` over literals (the sqlite3 shell's `.dump`).

Whether backslashes escape in plain strings (MySQL only) is decided by `sql_dialect` from the
evidence of the file's start; dollar-quoted bodies (`$$ .. $$`) are whole strings elsewhere.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from llm_pipeline.parse.errors import OnError, report
from llm_pipeline.parse.sql_dialect import SAMPLE_CHARS, Dialect, guess_dialect
from llm_pipeline.parse.tabular import detect_encoding

Row = dict[str, object]


class _Malformed(Exception):
    """A statement (or COPY line) that cannot be read; `pos` is where, within its text."""

    def __init__(self, reason: str, pos: int = 0, rows: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.pos, self.rows = reason, pos, rows  # rows: how many the statement held


def iter_rows(
    path: str | os.PathLike,
    *,
    on_error: OnError | None = None,
    dialect: Dialect | None = None,
    encoding: str | None = None,
) -> Iterator[tuple[str, Row]]:
    """(table, {column: value}) for every row of a SQL dump.

    Tables are named without schema or quotes (`"public"."posts"` -> `posts`). Columns come
    from the INSERT/COPY column list, else the table's CREATE TABLE earlier in the dump, else
    col1..colN. A statement that cannot be read is reported as
    `on_error("statement 12 (line 340)", reason)` and skipped whole (a bad COPY line: that
    line only); with no `on_error` it raises `ParseError` (a ValueError). `dialect` is
    guessed from the file when not given (see `sql_dialect`; it decides whether backslashes
    escape).
    """
    for table, _, row in iter_numbered_rows(path, on_error=on_error, dialect=dialect, encoding=encoding):
        yield table, row


def iter_numbered_rows(
    path: str | os.PathLike,
    *,
    on_error: OnError | None = None,
    dialect: Dialect | None = None,
    encoding: str | None = None,
) -> Iterator[tuple[str, int, Row]]:
    """(table, number, row) as `iter_rows`, where `number` is the row's 1-based place among
    its table's rows in the dump. Rows of rejected statements and bad COPY lines keep their
    places, so that a row's number stays true whatever was rejected before it."""
    encoding = encoding or detect_encoding(path)
    with open(path, encoding=encoding) as f:
        mysql = (dialect or guess_dialect(f.read(SAMPLE_CHARS))) == "mysql"
        f.seek(0)
        tables: dict[str, _Table] = {}
        places: Counter[str] = Counter()
        for statement in _split_statements(f, mysql):
            try:
                for table, row in _rows_of(statement, tables, mysql, on_error):
                    if isinstance(row, _RejectedInsert):
                        rows = sum(row.rows_meant.values())
                        report(on_error, statement.location(row.pos, rows), row.reason)
                        places.update(row.rows_meant)
                        continue
                    places[table] += 1
                    if row is not None:
                        yield table, places[table], row
            except _Malformed as error:
                report(on_error, statement.location(error.pos, error.rows), error.reason)


def _rows_of(statement: _Statement, tables: dict[str, _Table], mysql: bool, on_error: OnError | None):
    """(table, row) for each row of a statement; (table, None) holds the place of a bad COPY line."""
    if statement.copy is not None:
        yield from _copy_rows(statement, tables, on_error)
        return
    text = statement.text
    start = _batch_start(text)
    keyword = _first_word(text, start)
    # INSERTs are read, never run: text inside their strings may mention anything.
    if keyword not in ("INSERT", "REPLACE") and _HOST_EFFECT.search(text[start:] if start else text):
        # Never executed here, but a dump that tries to reach the host is worth a trace in rejected/.
        raise _Malformed(f"{UNSAFE_STATEMENT}: {' '.join(text.split())[:80]}", 0)
    if keyword in ("INSERT", "REPLACE"):
        # All or nothing per INSERT: one with a bad tuple is reported whole, not half-kept. A SQL
        # Server batch holds several INSERTs with no ';' between them; each stands on its own.
        for begin, end in _insert_spans(text, mysql, start):
            try:
                rows = list(_insert_rows(text[:end], tables, mysql, begin))
            except _Malformed as error:
                yield "", _RejectedInsert(error.reason, error.pos, _rows_meant(text[begin:end], mysql))
                continue
            yield from rows
    elif keyword == "CREATE" and _CREATE_TABLE.match(text, start):
        table = _read_create_table(text[start:] if start else text)
        if table is not None:
            tables[table.name.casefold()] = table


def _first_word(text: str, pos: int = 0) -> str:
    match = _WORD.match(text, pos)
    return match.group(1).upper() if match else ""


_WORD = re.compile(r"\s*([A-Za-z_]+)")
UNSAFE_STATEMENT = "statement acting outside the database (not executed)"
# Statements that, run by a database client, would read or write host files or load code. (COPY
# ... FROM stdin never gets here: its data block is read as rows first.)
_HOST_EFFECT = re.compile(
    r"^\s*(?:ATTACH|DETACH)\b|^\s*VACUUM\b[^;]*\bINTO\b|\b(?:load_extension|writefile|readfile)\s*\(|"
    r"^\s*PRAGMA\s+(?:temp_store_directory|data_store_directory)\b|"
    r"^\s*COPY\b|\bINTO\s+(?:OUTFILE|DUMPFILE)\b|\bLOAD\s+DATA\b",
    re.I,
)
_CREATE_TABLE = re.compile(r"\s*CREATE\s+(?:(?:GLOBAL|LOCAL|TEMP|TEMPORARY|UNLOGGED)\s+)*TABLE\b", re.I)

# --- splitting --------------------------------------------------------------------------


@dataclass(slots=True)
class _Statement:
    number: int  # 1-based, in file order
    line: int  # where its first character is
    text: str  # comments removed
    copy: _CopyData | None = None  # the data lines of a COPY ... FROM stdin

    def location(self, pos: int, rows: int) -> str:
        """Where position `pos` of the statement is, and how many rows a rejection there holds:
        `statement 12 (line 340, 3 rows)`. The raw-file accounting counts rejected rows by it."""
        return rejected_location(self.number, self.line + self.text.count("\n", 0, pos), rows)


def rejected_location(statement: int, line: int, rows: int) -> str:
    held = f", {rows} row{'s' if rows != 1 else ''}" if rows else ""
    return f"statement {statement} (line {line}{held})"


ROWS_HELD = re.compile(r", (\d+) rows?\)$")  # the rows a rejection's location says it holds


@dataclass(slots=True)
class _CopyData:
    """The data lines after a COPY ... FROM stdin header, read lazily from the shared file."""

    lines: _NumberedLines
    ended: bool = False  # seen the closing "\\." line

    def __iter__(self) -> Iterator[tuple[int, str]]:
        if self.ended:
            return
        for number, line in self.lines:
            if line.rstrip("\r\n") == "\\.":
                self.ended = True
                return
            yield number, line[:-1] if line.endswith("\n") else line

    def drain(self) -> None:
        for _ in self:
            pass


class _NumberedLines:
    """A file's lines with their 1-based numbers, shared by the splitter and a COPY block."""

    def __init__(self, f) -> None:
        self._lines = enumerate(f, start=1)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return self._lines


@dataclass(slots=True)
class _Grammar:
    """Regular expressions for one dialect and statement delimiter."""

    scan: re.Pattern  # the next quote, comment, opener or delimiter in a line
    closers: dict[str, re.Pattern]  # what ends a construct opened by a given opener


def _grammar(mysql: bool, delimiter: str) -> _Grammar:
    backslashed = r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'"
    if mysql:  # backslash escapes; "..." is a string; # starts a comment
        single, double = backslashed, r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"'
        extra = [r"#[^\n]*"]
        openers = r"""['"`]|/\*"""
    else:  # doubled quotes; E'..' backslash strings, [bracket] identifiers, $tag$ quotes
        single, double = r"'[^']*(?:''[^']*)*'", r'"[^"]*(?:""[^"]*)*"'
        extra = [r"\[[^\]\n]*\]"]
        openers = r"""(?<![\w$])[Ee]'|['"`\[]|/\*|\$(?:[A-Za-z_]\w*)?\$"""
    e_string = [] if mysql else [r"(?<![\w$])[Ee]" + backslashed]
    complete = [*e_string, single, double, r"`[^`]*(?:``[^`]*)*`", r"--[^\n]*", r"/\*.*?\*/", *extra]
    scan = re.compile("|".join([*complete, f"(?P<delim>{re.escape(delimiter)})", openers]), re.S)
    closers = {
        "'": re.compile(single[1:]),
        '"': re.compile(double[1:]),
        "`": re.compile(r"[^`]*(?:``[^`]*)*`"),
        "[": re.compile(r"[^\]]*\]"),
        "/*": re.compile(r".*?\*/", re.S),
        "E'": re.compile(backslashed[1:]),
        "e'": re.compile(backslashed[1:]),
    }
    return _Grammar(scan, closers)


_GO = re.compile(r"\s*GO(?:\s+\d+)?\s*$", re.I)  # SQL Server batch separator
_DELIMITER = re.compile(r"\s*DELIMITER\s+(\S+)\s*$", re.I)  # mysql client command
_COPY_FROM_STDIN = re.compile(r"\s*COPY\b.*\bFROM\s+STDIN\b", re.I | re.S)


def _split_statements(f, mysql: bool) -> Iterator[_Statement]:
    """Statements of a SQL script, comments removed, read line by line.

    Besides `;` a statement ends at a SQL Server `GO` line; `DELIMITER` lines (mysql
    client) change the delimiter; psql meta-command lines (`\\c db`) are skipped; after a
    `COPY ... FROM stdin` statement its data lines are handed over, not parsed as SQL.
    """
    lines = _NumberedLines(f)
    grammar = _grammar(mysql, ";")
    closer: re.Pattern | None = None  # set while inside a string or comment spanning lines
    in_comment = False
    parts: list[str] = []
    has_code = False  # whether `parts` holds more than whitespace
    start_line = number = 0

    def emit() -> _Statement | None:
        nonlocal number, has_code
        text = "".join(parts).strip()
        parts.clear()
        if not has_code:
            return None
        has_code = False
        number += 1
        copy = _CopyData(lines) if _COPY_FROM_STDIN.match(text) else None
        return _Statement(number, start_line, text, copy)

    for line_number, line in lines:
        if closer is None and not has_code:
            if line.lstrip().startswith("\\"):  # psql meta-command such as \c dbname
                continue
            if match := _DELIMITER.match(line):
                grammar = _grammar(mysql, match.group(1))
                continue
        if closer is None and _GO.match(line):
            if statement := emit():
                yield statement
            continue
        pos = 0
        while pos < len(line):
            if closer is not None:  # inside a string or comment opened on an earlier line
                match = closer.match(line, pos)
                end = match.end() if match else len(line)
                if not in_comment:
                    parts.append(line[pos:end])
                pos = end
                if match:
                    closer, in_comment = None, False
                continue
            match = grammar.scan.search(line, pos)
            code = line[pos : match.start() if match else len(line)]
            if code:
                if not has_code and not code.isspace():
                    has_code, start_line = True, line_number
                parts.append(code)
            if match is None:
                break
            token, pos = match.group(), match.end()
            if match.lastgroup == "delim":
                if statement := emit():
                    yield statement
                    if statement.copy is not None:
                        statement.copy.drain()  # whatever the consumer did not read
            elif token.startswith(("--", "#", "/*")):  # a comment: dropped, it carries no rows
                parts.append(" ")
                if token == "/*":
                    closer, in_comment = grammar.closers["/*"], True
            else:  # a string or quoted identifier, whole or opened here
                if not has_code:
                    has_code, start_line = True, line_number
                parts.append(token)
                if token in grammar.closers:
                    closer = grammar.closers[token]
                elif token.startswith("$"):  # $tag$ dollar quote: ends at the same tag
                    closer = re.compile(".*?" + re.escape(token), re.S)
    if statement := emit():  # the last statement may lack its delimiter
        yield statement
        if statement.copy is not None:
            statement.copy.drain()


# --- identifiers and CREATE TABLE --------------------------------------------------------

_IDENT = r'(?:`[^`]*(?:``[^`]*)*`|"[^"]*(?:""[^"]*)*"|\[[^\]]*\]|[^\s,.()`"\[\];]+)'
_QUALIFIED = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
_IDENT_RE = re.compile(_IDENT)
# SSMS "Generate Scripts" opens a batch with `SET IDENTITY_INSERT [dbo].[T] ON` (and other
# session options) on the lines before its INSERTs, with no ';' between them.
_SESSION_OPTIONS = re.compile(rf"(?:\s*SET\s+(?:IDENTITY_INSERT\s+{_QUALIFIED}|[A-Za-z_]+)\s+(?:ON|OFF)\b)+", re.I)


def _batch_start(text: str, pos: int = 0) -> int:
    """Where the statement proper starts, after SQL Server session options that open its batch."""
    options = _SESSION_OPTIONS.match(text, pos)
    return options.end() if options else pos


def _unquote(identifier: str) -> str:
    first = identifier[:1]
    if first == "`":
        return identifier[1:-1].replace("``", "`")
    if first == '"':
        return identifier[1:-1].replace('""', '"')
    if first == "[":
        return identifier[1:-1]
    return identifier


def _table_name(qualified: str) -> str:
    """`"public"."posts"` -> `posts`: the last part, unquoted."""
    return _unquote(_IDENT_RE.findall(qualified)[-1])


def _column_names(column_list: str) -> list[str]:
    return [_unquote(name) for name in _IDENT_RE.findall(column_list)]


@dataclass(slots=True)
class _Table:
    name: str
    columns: list[str]
    kinds: list[type | None] = field(default_factory=list)  # Python type per column (COPY, bytea)


# Words that start a table constraint rather than a column definition.
_CONSTRAINT_WORDS = frozenset(
    {
        "CONSTRAINT",
        "PRIMARY",
        "PRIMARY KEY",
        "FOREIGN",
        "FOREIGN KEY",
        "UNIQUE",
        "UNIQUE KEY",
        "CHECK",
        "EXCLUDE",
        "FULLTEXT",
        "SPATIAL",
        "LIKE",
        "PERIOD",
        "INDEX",
        "KEY",
    }
)
_TYPE_KINDS: dict[str, type] = {
    **dict.fromkeys(
        (
            "int",
            "integer",
            "smallint",
            "bigint",
            "tinyint",
            "mediumint",
            "int2",
            "int4",
            "int8",
            "serial",
            "smallserial",
            "bigserial",
            "serial4",
            "serial8",
        ),
        int,
    ),
    **dict.fromkeys(("numeric", "decimal", "real", "double", "double precision", "float", "float4", "float8"), float),
    **dict.fromkeys(("boolean", "bool"), bool),
    "bytea": bytes,
}


def _read_create_table(text: str) -> _Table | None:
    """Table name, column names and column kinds of a CREATE TABLE, via sqlparse's lexer."""
    from sqlparse import lexer, tokens

    significant = [
        (ttype, value)
        for ttype, value in lexer.tokenize(text)
        if ttype not in tokens.Whitespace and ttype not in tokens.Newline and ttype not in tokens.Comment
    ]
    words = [value.upper() for _, value in significant]
    if "TABLE" not in words or "(" not in words:
        return None
    name_tokens = significant[words.index("TABLE") + 1 : words.index("(")]
    names = [v for t, v in name_tokens if v.upper() not in ("IF", "NOT", "EXISTS", "IF NOT EXISTS", ".")]
    if not names or "AS" in (name.upper() for name in names):  # CREATE TABLE .. AS SELECT
        return None
    table = _Table(_unquote(names[-1]), [])
    for element in _top_level_elements(significant[words.index("(") + 1 :]):
        column = _column_definition(element)
        if column is not None:
            table.columns.append(column[0])
            table.kinds.append(column[1])
    return table


def _top_level_elements(significant: list[tuple]) -> Iterator[list[tuple]]:
    """The comma-separated elements of a CREATE TABLE body, up to its closing parenthesis."""
    depth, element = 0, []
    for ttype, value in significant:
        if value == "(":
            depth += 1
        elif value == ")":
            if depth == 0:
                break
            depth -= 1
        elif value == "," and depth == 0:
            yield element
            element = []
            continue
        element.append((ttype, value))
    if element:
        yield element


def _column_definition(element: list[tuple]) -> tuple[str, type | None] | None:
    from sqlparse import tokens

    if not element:
        return None
    (first_type, first), *rest = element
    type_token = rest[0] if rest else (None, "")
    if first.upper() in _CONSTRAINT_WORDS and first_type in tokens.Keyword:
        # `key int` is a column named key; `KEY idx (a)` (MySQL) is an index.
        if not (first.upper() in ("KEY", "INDEX") and type_token[0] in tokens.Name.Builtin):
            return None
    is_array = any(value.startswith("[") or value.upper() == "ARRAY" for _, value in rest[1:3])
    kind = None if is_array else _TYPE_KINDS.get(type_token[1].lower())
    return _unquote(first), kind


# --- INSERT ------------------------------------------------------------------------------

_INSERT = re.compile(
    rf"""\s*(?:INSERT|REPLACE)\s+
    (?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE|OR\s+(?:REPLACE|IGNORE|ABORT|FAIL|ROLLBACK))\s+)*
    (?:INTO\s+)?(?P<table>{_QUALIFIED})\s*
    (?:\((?P<columns>\s*{_IDENT}\s*(?:,\s*{_IDENT}\s*)*)\)\s*)?
    VALUES?\b""",
    re.I | re.X,
)


def _insert_rows(text: str, tables: dict[str, _Table], mysql: bool, start: int = 0) -> Iterator[tuple[str, Row]]:
    """Rows of an INSERT. SQL Server scripts put one INSERT per line with no ';' between
    them, so a text may hold several INSERTs (and SET options) one after the other."""
    pos: int | None = start
    while pos is not None:
        header = _INSERT.match(text, pos if pos == start else _batch_start(text, pos))
        if header is None:
            if pos == start:
                raise _Malformed("not an INSERT ... VALUES statement (INSERT ... SELECT carries no literal rows)")
            return  # a SET ... after the INSERTs of a batch: no rows
        pos = yield from _typed_rows(text, header, tables, mysql)


def _typed_rows(text: str, header: re.Match, tables: dict[str, _Table], mysql: bool):
    """Rows of one INSERT's VALUES list; returns where a following statement starts, if any."""
    table = _table_name(header.group("table"))
    known = tables.get(table.casefold())
    columns = _column_names(header.group("columns")) if header.group("columns") else None
    kinds = _kinds_for(columns, known)
    columns = columns or (known.columns if known else None)
    tuples = _read_tuples(text, header.end(), mysql)
    while True:
        try:
            pos, values = next(tuples)
        except StopIteration as end:
            return end.value
        if columns is None:
            names = [f"col{i}" for i in range(1, len(values) + 1)]
        elif len(values) != len(columns):
            raise _Malformed(f"{len(values)} values for the {len(columns)} columns of {table}", pos)
        else:
            names = columns
        if bytes in kinds:
            values = [_bytea(v) if kind is bytes else v for v, kind in zip(values, kinds, strict=False)]
        yield table, dict(zip(names, values, strict=False))


@dataclass(frozen=True)
class _RejectedInsert:
    """One INSERT of a statement that could not be read, in place of its rows."""

    reason: str
    pos: int
    rows_meant: Counter[str]


def _insert_spans(text: str, mysql: bool, start: int) -> list[tuple[int, int]]:
    """(begin, end) of each INSERT in a statement's text, found by the lenient scan of
    `_lenient_inserts`: an INSERT that cannot be read still ends where the next one starts."""
    if _INSERT.match(text, start) is None:
        raise _Malformed("not an INSERT ... VALUES statement (INSERT ... SELECT carries no literal rows)")
    return [(begin, end) for _, begin, end, _ in _lenient_inserts(text, mysql, start)]


def _rows_meant(text: str, mysql: bool) -> Counter[str]:
    """How many rows INSERTs that could not be read meant to insert, per table: the
    parenthesised groups at the top level of their VALUES lists, read leniently."""
    counts: Counter[str] = Counter()
    for table, _, _, rows in _lenient_inserts(text, mysql, 0):
        counts[table] += rows
    return counts


def _lenient_inserts(text: str, mysql: bool, start: int) -> Iterator[tuple[str, int, int, int]]:
    """(table, begin, end, rows) of each INSERT in `text`, read leniently: an unreadable
    character is stepped over, and an INSERT ends at the end or at an INSERT or SET at the top
    level (outside strings and parentheses)."""
    match = _TOKENS[mysql].match
    pos = start
    while header := _INSERT.match(text, _batch_start(text, pos) if pos != start else pos):
        table, begin, pos, depth, rows = _table_name(header.group("table")), header.start(), header.end(), 0, 0
        clauses = False  # past ON DUPLICATE KEY / ON CONFLICT: parentheses there are not rows
        while True:
            m = match(text, pos)
            if m is None:  # an unreadable character: step over it
                pos += 1
                continue
            if m.lastgroup == "end":
                yield table, begin, len(text), rows
                return
            pos, punct = m.end(), m.group("punct")
            word = m.group("word").upper() if m.lastgroup == "word" and depth == 0 else ""
            if punct == "(":
                depth += 1
                rows += depth == 1 and not clauses
            elif punct == ")":
                depth = max(depth - 1, 0)
            elif word in _TRAILING_CLAUSES:
                clauses = True
            elif word in _NEXT_STATEMENT:
                pos = m.start("word")
                yield table, begin, pos, rows
                break


def _kinds_for(columns: list[str] | None, table: _Table | None) -> list[type | None]:
    """Column kinds in the order of `columns` (or of the table), from its CREATE TABLE."""
    if table is None:
        return []
    by_name = {name.casefold(): kind for name, kind in zip(table.columns, table.kinds, strict=False)}
    return [by_name.get(name.casefold()) for name in (columns or table.columns)]


def _bytea(value: object) -> object:
    """PostgreSQL writes bytea as '\\x' + hex; a blob comes back as bytes."""
    if isinstance(value, str) and value.startswith("\\x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return value
    return value


# Tokens of a VALUES list. Hex literals come before numbers (so 0x.. is not 0 then x..),
# prefixed strings before words (so N'..' is not the word N).
def _token_pattern(mysql: bool) -> re.Pattern:
    backslash_string = r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'"
    string = backslash_string if mysql else r"'[^']*(?:''[^']*)*'"
    double = r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"' if mysql else r"(?!)"  # MySQL: "..." is a string
    return re.compile(
        rf"""\s*(?:
        (?P<str>{string}|{double})
        |(?P<hex>0[xX][0-9A-Fa-f]*|[xX]'[0-9A-Fa-f\s]*')
        |(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
        |(?P<punct>[(),;])
        |(?P<nstr>[Nn](?={string}))
        |(?P<estr>[Ee]{backslash_string})
        |(?P<bits>[Bb]'[01]*')
        |(?P<intro>_[A-Za-z0-9]+(?=\s*'))
        |(?P<cast>::)
        |(?P<word>[A-Za-z_][\w$]*)
        |(?P<end>$)
        )""",
        re.X | re.S,
    )


_TOKENS = {True: _token_pattern(True), False: _token_pattern(False)}
_WORD_VALUES = {"NULL": None, "TRUE": True, "FALSE": False, "DEFAULT": None}  # DEFAULT: value unknown
_TRAILING_CLAUSES = frozenset({"ON", "RETURNING"})  # ON DUPLICATE KEY / ON CONFLICT: not rows
_NEXT_STATEMENT = frozenset({"INSERT", "SET"})  # statements that follow an INSERT without ';'


def _read_tuples(text: str, pos: int, mysql: bool):
    """(position, values) for each parenthesised tuple of a VALUES list starting at `pos`;
    returns the position of a next statement that follows without ';', else None."""
    match = _TOKENS[mysql].match
    while True:
        m = match(text, pos)
        if m is None or m.group("punct") != "(":
            raise _Malformed(_unexpected(text, pos, "'(' to open a row"), pos)
        start, pos = m.start("punct"), m.end()
        values: list = []
        m = match(text, pos)
        if m is not None and m.group("punct") == ")":  # () : a row of defaults (MySQL)
            pos = m.end()
        else:
            while True:
                value, pos = _read_value(text, pos, mysql)
                values.append(value)
                m = match(text, pos)
                while m is not None and m.lastgroup == "cast":  # 'x'::text (PostgreSQL)
                    pos = _skip_type(text, m.end())
                    m = match(text, pos)
                punct = m.group("punct") if m else None
                if punct == ",":
                    pos = m.end()
                elif punct == ")":
                    pos = m.end()
                    break
                else:
                    raise _Malformed(_unexpected(text, pos, "',' or ')' after a value"), pos)
        yield start, values
        m = match(text, pos)
        kind = m.lastgroup if m else None
        if kind == "punct" and m.group("punct") == ",":
            pos = m.end()
        elif kind == "end" or (kind == "punct" and m.group("punct") == ";"):
            return None
        elif kind == "word" and m.group("word").upper() in _TRAILING_CLAUSES:
            return None
        elif kind == "word" and m.group("word").upper() in _NEXT_STATEMENT:
            return m.start("word")
        else:
            raise _Malformed(_unexpected(text, pos, "',' or the end of the statement after a row"), pos)


_CONCAT = re.compile(r"\s*\|\|")
_MAX_NESTING = 16  # replace(replace(...)) and CAST(...) deep; the sqlite3 shell writes two


def _read_value(text: str, pos: int, mysql: bool, depth: int = 0) -> tuple[object, int]:
    """A literal, or literals joined by `||` (the sqlite3 shell splices char(10) in so)."""
    value, pos = _read_primary(text, pos, mysql, depth)
    while (m := _CONCAT.match(text, pos)) is not None:  # a small pattern: this runs after every value
        start = m.end()
        other, pos = _read_primary(text, start, mysql, depth)
        if not all(part is None or isinstance(part, str) for part in (value, other)):
            raise _Malformed("unsupported expression: || joins only strings here", start)
        value = None if value is None or other is None else value + other  # NULL || x is NULL
    return value, pos


def _read_primary(text: str, pos: int, mysql: bool, depth: int) -> tuple[object, int]:
    if depth > _MAX_NESTING:
        raise _Malformed(f"expression nested more than {_MAX_NESTING} deep", pos)
    m = _TOKENS[mysql].match(text, pos)
    if m is None:
        raise _Malformed(_unexpected(text, pos, "a value"), pos)
    kind, token, end = m.lastgroup, m.group(m.lastgroup), m.end()
    if kind == "str":
        return (_unescape_mysql(token) if mysql else token[1:-1].replace("''", "'")), end
    if kind == "num":
        return (int(token) if token.lstrip("+-").isdigit() else float(token)), end
    if kind == "word":
        upper = token.upper()
        if upper in _WORD_VALUES:
            return _WORD_VALUES[upper], end
        if upper == "CAST":
            return _read_cast(text, end, mysql, depth + 1)
        if upper in _FUNCTIONS:
            return _read_call(upper, text, end, mysql, depth + 1)
        raise _Malformed(f"unsupported expression {token!r} in VALUES (only literals are read)", m.start(kind))
    if kind == "hex":
        digits = re.sub(r"\s", "", token[2:-1] if token[1] == "'" else token[2:])
        if len(digits) % 2:
            digits = "0" + digits  # MySQL pads 0xABC on the left
        return bytes.fromhex(digits), end
    if kind == "nstr":  # N'...': the string follows
        return _read_primary(text, end, mysql, depth)
    if kind == "estr":
        return _unescape_postgres(token[2:-1], _E_STRING_ESCAPE), end
    if kind == "bits":
        return int(token[2:-1] or "0", 2), end
    if kind == "intro":  # _utf8mb4'...' or _binary'...' (MySQL character set introducers)
        value, end = _read_primary(text, end, mysql, depth)
        return (value.encode("utf-8") if token.lower() == "_binary" and isinstance(value, str) else value), end
    raise _Malformed(_unexpected(text, pos, "a value"), pos)


def _read_cast(text: str, pos: int, mysql: bool, depth: int) -> tuple[object, int]:
    """CAST(literal AS type), as SQL Server's generated scripts write dates: the literal."""
    match = _TOKENS[mysql].match
    m = match(text, pos)
    if m is None or m.group("punct") != "(":
        raise _Malformed(_unexpected(text, pos, "'(' after CAST"), pos)
    value, pos = _read_value(text, m.end(), mysql, depth)
    m = match(text, pos)
    if m is None or (m.group("word") or "").upper() != "AS":
        raise _Malformed(_unexpected(text, pos, "AS in CAST"), pos)
    return value, _skip_type(text, m.end(), closing=True)


def _replace(text: object, old: object, new: object) -> object:
    if None in (text, old, new):
        return None
    if not all(isinstance(part, str) for part in (text, old, new)):
        raise ValueError("replace() takes strings")
    return text.replace(old, new) if old else text  # SQLite: replacing '' changes nothing


def _char(*codes: object) -> str:
    if not all(type(code) is int and 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF for code in codes):
        raise ValueError("char() takes Unicode code points")
    return "".join(map(chr, codes))


# The only functions evaluated, on literal arguments: how the sqlite3 shell's .dump writes
# texts holding control characters, `replace('a\nb','\n',char(10))`. No SQL is ever run.
_FUNCTIONS = {"REPLACE": (_replace, 3), "CHAR": (_char, None)}  # (function, number of arguments)


def _read_call(name: str, text: str, pos: int, mysql: bool, depth: int) -> tuple[object, int]:
    match = _TOKENS[mysql].match
    m = match(text, pos)
    if m is None or m.group("punct") != "(":
        raise _Malformed(f"unsupported expression {name.lower()!r} in VALUES (only literals are read)", pos)
    arguments, pos = [], m.end()
    while True:
        value, pos = _read_value(text, pos, mysql, depth)
        arguments.append(value)
        m = match(text, pos)
        punct = m.group("punct") if m else None
        if punct not in (",", ")"):
            raise _Malformed(_unexpected(text, pos, f"',' or ')' in {name.lower()}()"), pos)
        pos = m.end()
        if punct == ")":
            break
    function, arity = _FUNCTIONS[name]
    if arity is not None and len(arguments) != arity:
        raise _Malformed(f"{name.lower()}() takes {arity} arguments, not {len(arguments)}", pos)
    try:
        return function(*arguments), pos
    except ValueError as error:
        raise _Malformed(f"unsupported {name.lower()}() call: {error}", pos) from None


_TYPE_NAME = r"\s*[A-Za-z_][\w ]*(?:\s*\([^)]*\))?(?:\s*\[\])*\s*"
_TYPE_PATTERNS = {False: re.compile(_TYPE_NAME), True: re.compile(_TYPE_NAME + r"\)")}


def _skip_type(text: str, pos: int, closing: bool = False) -> int:
    """Skip a type name such as `numeric(10, 2)` or `character varying[]` (and, for CAST,
    the closing parenthesis)."""
    m = _TYPE_PATTERNS[closing].match(text, pos)
    if m is None:
        raise _Malformed(_unexpected(text, pos, "a type name"), pos)
    return m.end()


def _unexpected(text: str, pos: int, expected: str) -> str:
    rest = text[pos:].lstrip()
    if rest[:1] in ("'", '"'):
        return f"unterminated string: expected {expected}, found {rest[:40]!r}"
    return f"expected {expected}, found {rest[:40]!r}" if rest else f"expected {expected}, found the end"


_MYSQL_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "%": "\\%", "_": "\\_"}
_MYSQL_ESCAPE = re.compile(r"\\(.)|''|\"\"", re.S)


def _unescape_mysql(token: str) -> str:
    """A MySQL string literal's text: backslash escapes, and the quote doubled inside it."""
    inner, quote = token[1:-1], token[0]
    if "\\" not in inner and quote * 2 not in inner:
        return inner

    def one(m: re.Match) -> str:
        if m.group(1) is not None:
            # \% and \_ keep their backslash (they only mean something in LIKE patterns).
            return _MYSQL_ESCAPES.get(m.group(1), m.group(1))
        doubled = m.group()
        return doubled[0] if doubled[0] == quote else doubled

    return _MYSQL_ESCAPE.sub(one, inner)


_POSTGRES_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_E_STRING_ESCAPE = re.compile(_POSTGRES_ESCAPE.pattern + "|''", re.S)  # E'..' also doubles quotes
_C_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape_postgres(text: str, pattern: re.Pattern = _POSTGRES_ESCAPE) -> str:
    """Backslash escapes of COPY text and E'..' strings (octal, \\x, \\u, C escapes)."""

    def one(m: re.Match) -> str:
        if m.group() == "''":
            return "'"
        octal, hex2, hex4, hex8, char = m.groups()
        if char is not None:
            return _C_ESCAPES.get(char, char)
        return chr(int(octal, 8) if octal else int(hex2 or hex4 or hex8, 16))

    return pattern.sub(one, text) if "\\" in text or "''" in text else text


# --- COPY --------------------------------------------------------------------------------

_COPY = re.compile(
    rf"""\s*COPY\s+(?:ONLY\s+)?(?P<table>{_QUALIFIED})\s*
    (?:\((?P<columns>\s*{_IDENT}\s*(?:,\s*{_IDENT}\s*)*)\)\s*)?
    FROM\s+STDIN\b(?P<options>.*)""",
    re.I | re.X | re.S,
)
_OTHER_COPY_FORMATS = re.compile(r"\b(?:CSV|BINARY)\b", re.I)
_BOOLEANS = {"t": True, "true": True, "f": False, "false": False}


def _copy_rows(statement: _Statement, tables: dict[str, _Table], on_error: OnError | None):
    """Rows of the tab-separated text data that follows COPY ... FROM stdin; a bad line is
    reported on its own line number and the block carries on."""
    header = _COPY.match(statement.text)
    if header is None or _OTHER_COPY_FORMATS.search(header.group("options")):
        lines = sum(1 for _ in statement.copy)
        raise _Malformed("unsupported COPY: only pg_dump's text format FROM stdin is read", rows=lines)
    table = _table_name(header.group("table"))
    known = tables.get(table.casefold())
    columns = _column_names(header.group("columns")) if header.group("columns") else None
    kinds = _kinds_for(columns, known)
    columns = columns or (known.columns if known else None)
    for line_number, line in statement.copy:
        fields = line.split("\t")
        names = columns or [f"col{i}" for i in range(1, len(fields) + 1)]
        if len(fields) != len(names):
            report(
                on_error,
                rejected_location(statement.number, line_number, 1),
                f"COPY row has {len(fields)} fields for the {len(names)} columns of {table}",
            )
            yield table, None
            continue
        try:
            values = [
                _copy_value(text, kind) for text, kind in zip(fields, kinds or [None] * len(fields), strict=False)
            ]
        except ValueError as error:
            report(on_error, rejected_location(statement.number, line_number, 1), f"bad COPY value: {error}")
            yield table, None
            continue
        yield table, dict(zip(names, values, strict=False))
    if not statement.copy.ended:
        raise _Malformed("COPY data not ended by a \\. line before the end of the file")


def _copy_value(text: str, kind: type | None) -> object:
    if text == "\\N":
        return None
    value = _unescape_postgres(text) if "\\" in text else text  # COPY: '' is two quotes
    if kind is None or kind is str:
        return value
    if kind is bytes:
        return _bytea(value)
    if kind is bool:
        return _BOOLEANS[value.lower()] if value.lower() in _BOOLEANS else value
    return kind(value)
