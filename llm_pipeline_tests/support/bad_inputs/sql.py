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
    BadInput(
        "PostgreSQL dump with a backtick in a comment",
        "sql/postgres_backtick.sql",
        lambda: (
            "-- Restore with `psql -f notes.sql`\n"
            "SET standard_conforming_strings = on;\n"
            "SET search_path = public;\n"
            "CREATE TABLE public.notes (id integer, body text);\n"
            "CREATE FUNCTION public.log_note() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "  PERFORM pg_notify('notes', 'changed');\n"
            "  INSERT INTO public.notes VALUES (99, 'Leaked from a function body: a trigger is code, not data.');\n"
            "  RETURN NEW;\n"
            "END;\n"
            "$$;\n"
            "INSERT INTO public.notes VALUES (1, 'Saved under C:\\Users\\');\n"  # one backslash at the end
            f"INSERT INTO public.notes VALUES (2, '{QA[0][1]}');\n"
        ).encode(),
        keeps="Pinch off the flower buds",
        never_keeps="Leaked from a function body",
    ),
    BadInput(
        "SQL Server script whose batch opens with SET IDENTITY_INSERT",
        "sql/ssms_identity_insert.sql",
        lambda: (
            "SET IDENTITY_INSERT [dbo].[Answers] ON \n\n"
            f"INSERT [dbo].[Answers] ([Id], [Body], [Added]) VALUES (1, N'{QA[1][1]}', "
            "CAST(N'2024-01-01T00:00:00.000' AS DateTime))\n"
            "SET IDENTITY_INSERT [dbo].[Answers] OFF\n"
            "GO\n"
        ).encode(),
        keeps="Resting lets the gluten relax",
    ),
    BadInput(
        "SQL Server batch where one INSERT of several is broken",
        "sql/ssms_one_bad_insert.sql",
        lambda: (
            "SET IDENTITY_INSERT [dbo].[Answers] ON\n"
            f"INSERT [dbo].[Answers] ([Id], [Body]) VALUES (1, N'{QA[0][1]}')\n"
            "INSERT [dbo].[Answers] ([Id], [Body]) VALUES (2, N'Broken' N'value')\n"
            f"INSERT [dbo].[Answers] ([Id], [Body]) VALUES (3, N'{QA[2][1]}')\n"
            "SET IDENTITY_INSERT [dbo].[Answers] OFF\n"
            "GO\n"
        ).encode(),
        keeps="Cool it under running water",  # the INSERT after the broken one
        reasons=("bad_sql_statement",),
    ),
    BadInput(
        "sqlite3 shell dump writing newlines as replace(..., char(10))",
        "sql/sqlite_shell_newlines.sql",
        lambda: (
            b"PRAGMA foreign_keys=OFF;\n"
            b"BEGIN TRANSACTION;\n"
            b"CREATE TABLE notes(id INTEGER, body TEXT);\n"
            b"INSERT INTO notes VALUES(1,replace(replace('Cool it under running water.\\r\\n"
            b"Then cover it loosely.','\\r',char(13)),'\\n',char(10)));\n"
            b"COMMIT;\n"
        ),
        keeps="Cool it under running water.",
        never_keeps="\\r\\nThen cover",
    ),
    BadInput("zero-byte SQL", "sql/zero.sql", lambda: b"", reasons=("empty_file",)),
    BadInput(
        "binary file named .sql",
        "sql/binary.sql",
        lambda: b"SQLite format 3\x00" + bytes(range(256)) * 16,
        reasons=("bad_sql_statement", "unreadable_file", "no_records"),
    ),
]
