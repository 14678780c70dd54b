"""Bad SQL dumps."""

from __future__ import annotations

from llm_pipeline_tests.support.bad_inputs.common import QA, BadInput, mysql_string

SQL_INPUTS: list[BadInput] = [
    BadInput(
        "SQL with a syntax error",
        "sql/syntax_error.sql",
        lambda: (
            "CREATE TABLE posts (id int, body text);\n"
            f"INSERT INTO posts VALUES (1, {mysql_string(QA[0][1])});\n"
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
            f"INSERT INTO posts VALUES (1, {mysql_string(QA[1][1])});\n"
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
]
