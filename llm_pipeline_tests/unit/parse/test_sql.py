"""SQL dumps -> (table, row): the four dialects, escapes, COPY blocks, and bad statements."""

from __future__ import annotations

import pytest

from llm_pipeline.parse.sql import UNSAFE_STATEMENT, iter_numbered_rows, iter_rows

# One tiny database, as each dialect's tools write it. Every dump must give EXPECTED.
EXPECTED = [
    ("posts", {"id": 1, "title": "It's here", "body": "line one\nline two\ttabbed", "score": 4.5}),
    ("posts", {"id": 2, "title": "back\\slash", "body": None, "score": -1.0}),
    ("posts", {"id": 3, "title": "Grüße, 世界", "body": "a;b (c)", "score": 0.0}),
    ("authors", {"id": 7, "name": "Ann", "avatar": b"\x89PNG"}),  # a blob is bytes in every dialect
]

MYSQL = r"""-- MySQL dump 10.13  Distrib 8.0.36
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `posts`;
CREATE TABLE `posts` (
  `id` int NOT NULL AUTO_INCREMENT,
  `title` varchar(200) DEFAULT NULL,
  `body` text,
  `score` decimal(4,1) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_title` (`title`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `posts` WRITE;
/*!40000 ALTER TABLE `posts` DISABLE KEYS */;
INSERT INTO `posts` VALUES (1,'It\'s here','line one\nline two\ttabbed',4.5),(2,'back\\slash',NULL,-1.0),(3,'Grüße, 世界','a;b (c)',0.0);
/*!40000 ALTER TABLE `posts` ENABLE KEYS */;
UNLOCK TABLES;
INSERT INTO `authors` (`id`, `name`, `avatar`) VALUES (7,'Ann',X'89504E47');
"""

POSTGRES_COPY = """--
-- PostgreSQL database dump
--
SET standard_conforming_strings = on;
\\connect blog
CREATE TABLE public.posts (
    id integer NOT NULL,
    title character varying(200),
    body text,
    score numeric(4,1)
);
COPY public.posts (id, title, body, score) FROM stdin;
1\tIt's here\tline one\\nline two\\ttabbed\t4.5
2\tback\\\\slash\t\\N\t-1.0
3\tGrüße, 世界\ta;b (c)\t0.0
\\.
CREATE TABLE public.authors (id integer, name text, avatar bytea);
COPY public.authors (id, name, avatar) FROM stdin;
7\tAnn\t\\\\x89504e47
\\.
"""

# pg_dump --inserts: standard strings (a newline and a tab written as themselves), E'' strings
# where backslashes are meant, bytea as '\x..' text typed by CREATE TABLE.
POSTGRES_INSERTS = """SET standard_conforming_strings = on;
CREATE TABLE public.posts (id integer NOT NULL, title character varying(200), body text, score numeric(4,1));
INSERT INTO public.posts VALUES (1, 'It''s here', E'line one\\nline two\\ttabbed', 4.5);
INSERT INTO public.posts VALUES (2, 'back\\slash', NULL, -1.0);
INSERT INTO public.posts VALUES (3, 'Grüße, 世界', 'a;b (c)', 0.0);
CREATE TABLE public.authors (id integer, name text, avatar bytea);
INSERT INTO public.authors VALUES (7, 'Ann', '\\x89504e47');
"""

SQLITE = """PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE [posts] ([id] INTEGER NOT NULL, [title] NVARCHAR(200), [body] TEXT, [score] NUMERIC(4,1));
INSERT INTO [posts] ([id], [title], [body], [score]) VALUES
    (1, 'It''s here', 'line one
line two\ttabbed', 4.5),
    (2, 'back\\slash', NULL, -1.0),
    (3, 'Grüße, 世界', 'a;b (c)', 0.0);
CREATE TABLE "authors" ("id" INTEGER, "name" TEXT, "avatar" BLOB);
INSERT INTO "authors" VALUES(7,'Ann',X'89504E47');
COMMIT;
"""

SQLSERVER = """SET IDENTITY_INSERT [dbo].[posts] ON
GO
INSERT [dbo].[posts] ([id], [title], [body], [score]) VALUES (1, N'It''s here', N'line one
line two\ttabbed', CAST(4.5 AS Decimal(4, 1)))
INSERT [dbo].[posts] ([id], [title], [body], [score]) VALUES (2, N'back\\slash', NULL, CAST(-1.0 AS Decimal(4, 1)))
GO
INSERT [dbo].[posts] ([id], [title], [body], [score]) VALUES (3, N'Grüße, 世界', N'a;b (c)', 0.0);
INSERT [dbo].[authors] ([id], [name], [avatar]) VALUES (7, N'Ann', 0x89504E47)
GO
"""


def _dump(tmp_path, text: str, name: str = "dump.sql"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# SQL Server: SSMS writes one INSERT per line with no ';'; they end at the next INSERT or at GO.
@pytest.mark.parametrize(
    "dump",
    [MYSQL, POSTGRES_COPY, POSTGRES_INSERTS, SQLITE, SQLSERVER],
    ids=["mysql", "postgres-copy", "postgres-inserts", "sqlite", "sqlserver-go"],
)
def test_same_database_in_each_dialect_gives_the_same_rows(tmp_path, dump):
    assert list(iter_rows(_dump(tmp_path, dump))) == EXPECTED


def test_extended_insert_of_three_rows_decodes_mysql_escapes(tmp_path):
    dump = r"INSERT INTO `t` (`a`) VALUES ('x\'y'),('tab\there\\'),('nul\0end\r\n');" + "\n"
    rows = [row["a"] for _, row in iter_rows(_dump(tmp_path, dump))]
    assert rows == ["x'y", "tab\there\\", "nul\0end\r\n"]


def test_hex_blobs_are_bytes_and_numbers_are_typed(tmp_path):
    dump = "INSERT INTO `files` VALUES (1, 0x48656C6C6F, X'00FF', 2.5, 1e3, NULL, 'text');\n"
    ((_, row),) = iter_rows(_dump(tmp_path, dump))
    assert list(row.values()) == [1, b"Hello", b"\x00\xff", 2.5, 1000.0, None, "text"]
    assert list(row) == ["col1", "col2", "col3", "col4", "col5", "col6", "col7"]


def test_postgres_insert_with_e_strings_and_schema_qualified_names(tmp_path):
    dump = """CREATE TABLE "public"."notes" (id bigint, note text, data bytea);
INSERT INTO "public"."notes" VALUES (1, E'it\\'s\\nnew', '\\x4869');
INSERT INTO public.notes (id, note) VALUES (2, 'plain \\ backslash') ON CONFLICT DO NOTHING;
"""
    rows = list(iter_rows(_dump(tmp_path, dump)))
    assert rows == [
        ("notes", {"id": 1, "note": "it's\nnew", "data": b"Hi"}),
        ("notes", {"id": 2, "note": "plain \\ backslash"}),
    ]


def test_copy_null_is_none_and_escapes_are_decoded(tmp_path):
    dump = "COPY logs (id, msg) FROM stdin;\n1\t\\N\n2\ta\\\\b\\tc\n\\.\n"
    assert list(iter_rows(_dump(tmp_path, dump))) == [
        ("logs", {"id": "1", "msg": None}),  # no CREATE TABLE: COPY text stays text
        ("logs", {"id": "2", "msg": "a\\b\tc"}),
    ]


def test_copy_line_with_wrong_field_count_is_reported_and_the_block_continues(tmp_path):
    dump = "COPY logs (id, msg) FROM stdin;\n1\tok\n2\n3\tok\n\\.\n"
    errors = []
    rows = list(iter_rows(_dump(tmp_path, dump), on_error=lambda loc, why: errors.append((loc, why))))
    assert [row["id"] for _, row in rows] == ["1", "3"]
    assert errors[0][0] == "statement 1 (line 3, 1 row)"


def test_semicolons_and_comment_markers_inside_strings_do_not_split(tmp_path):
    dump = "INSERT INTO t VALUES ('a; -- not a comment /* nor this */', 'b');\nINSERT INTO t VALUES ('c', 'd');\n"
    rows = [tuple(row.values()) for _, row in iter_rows(_dump(tmp_path, dump))]
    assert rows == [("a; -- not a comment /* nor this */", "b"), ("c", "d")]


def test_malformed_statements_are_reported_with_location_and_parsing_continues(tmp_path):
    dump = """CREATE TABLE t (a int, b text);
INSERT INTO t VALUES (1, 'ok');
INSERT INTO t VALUES (2);
INSERT INTO t VALUES (3, 'x') garbage;
INSERT INTO t VALUES (4, 'fine');
INSERT INTO t VALUES (5, 'never closed);
"""
    errors = []
    rows = list(iter_rows(_dump(tmp_path, dump), on_error=lambda loc, why: errors.append((loc, why))))
    assert [row["a"] for _, row in rows] == [1, 4]
    assert [loc for loc, _ in errors] == [
        "statement 3 (line 3, 1 row)",
        "statement 4 (line 4, 1 row)",
        "statement 6 (line 6, 1 row)",
    ]
    assert "1 values for the 2 columns" in errors[0][1]
    assert "unterminated string" in errors[2][1]


def test_without_on_error_a_bad_statement_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"statement 1 \(line 1, 1 row\)"):
        list(iter_rows(_dump(tmp_path, "INSERT INTO t VALUES (1, now());\n")))


def test_a_bad_tuple_rejects_its_whole_statement(tmp_path):
    dump = "INSERT INTO t (a, b) VALUES (1, 2), (3), (5, 6);\n"
    errors = []
    rows = list(iter_rows(_dump(tmp_path, dump), on_error=lambda loc, why: errors.append(loc)))
    assert rows == [] and errors == ["statement 1 (line 1, 3 rows)"]  # the rows it held, for the accounting


def test_mysql_delimiter_blocks_do_not_leak_trigger_bodies_as_rows(tmp_path):
    dump = """DELIMITER ;;
CREATE TRIGGER trg BEFORE INSERT ON `t` FOR EACH ROW BEGIN INSERT INTO `log` VALUES (99); END ;;
DELIMITER ;
INSERT INTO `t` VALUES (1);
"""
    assert list(iter_rows(_dump(tmp_path, dump))) == [("t", {"col1": 1})]


def test_postgres_function_bodies_in_dollar_quotes_are_skipped(tmp_path):
    dump = """CREATE FUNCTION f() RETURNS trigger AS $body$
BEGIN
  INSERT INTO audit VALUES (99);
  RETURN NEW;
END;
$body$ LANGUAGE plpgsql;
INSERT INTO t VALUES (1);
"""
    assert list(iter_rows(_dump(tmp_path, dump))) == [("t", {"col1": 1})]


def test_a_long_value_and_many_rows_are_kept_whole(tmp_path):
    # One INSERT of about 14,000 tokens: over the 10,000 that sqlparse.parse accepts.
    long_text = "word " * 5000
    values = ",".join(f"({i}, '{long_text}')" for i in range(2000))
    dump = f"INSERT INTO big (id, text) VALUES {values};\n"
    rows = list(iter_rows(_dump(tmp_path, dump)))
    assert len(rows) == 2000
    assert rows[-1][1] == {"id": 1999, "text": long_text}


def test_copy_values_are_typed_from_create_table(tmp_path):
    dump = """CREATE TABLE files (id bigint, ok boolean, data bytea, tags text[], size real);
COPY files (id, ok, data, tags, size) FROM stdin;
5\tt\t\\\\x4869\t{a,b}\t1.5
\\.
"""
    assert list(iter_rows(_dump(tmp_path, dump))) == [
        ("files", {"id": 5, "ok": True, "data": b"Hi", "tags": "{a,b}", "size": 1.5})
    ]


def test_error_location_is_the_line_of_the_bad_row_in_a_multiline_insert(tmp_path):
    dump = "-- header comment\n\nINSERT INTO t (a, b) VALUES\n  (1, 'x'),\n  (2, 'y', 'extra'),\n  (3, 'z');\n"
    errors = []
    list(iter_rows(_dump(tmp_path, dump), on_error=lambda loc, why: errors.append(loc)))
    assert errors == ["statement 1 (line 5, 3 rows)"]


def test_mysql_doubled_quotes_and_binary_introducer(tmp_path):
    dump = "INSERT INTO `t` VALUES ('a''b', \"say \"\"hi\"\"\", _binary 'raw', b'101');\n"
    ((_, row),) = iter_rows(_dump(tmp_path, dump))
    assert list(row.values()) == ["a'b", 'say "hi"', b"raw", 5]


def test_statements_reaching_the_host_are_reported_never_run(tmp_path):
    dump = tmp_path / "escape.sql"
    dump.write_text(
        "PRAGMA foreign_keys=OFF;\n"
        "ATTACH DATABASE '/tmp/owned.db' AS owned;\n"
        "SELECT load_extension('/tmp/evil.so');\n"
        "VACUUM INTO '/tmp/copy.db';\n"
        "COPY posts TO PROGRAM 'rm -rf /';\n"
        "CREATE TABLE posts (id INTEGER, body TEXT);\n"
        "INSERT INTO posts VALUES (1, 'Never call load_extension(''x'') on untrusted input.');\n"
    )
    errors = []
    rows = list(iter_rows(dump, on_error=lambda location, reason: errors.append((location, reason))))
    assert rows == [("posts", {"id": 1, "body": "Never call load_extension('x') on untrusted input."})]
    assert [location for location, _ in errors] == [
        "statement 2 (line 2)",
        "statement 3 (line 3)",
        "statement 4 (line 4)",
        "statement 5 (line 5)",
    ]
    assert all(reason.startswith(UNSAFE_STATEMENT) for _, reason in errors)
    assert not list(tmp_path.glob("*.db"))


# --- dialect: decided on strong evidence, never on one character ---------------------------

# Chinook-style PostgreSQL (no pg_dump header): a backtick in a comment and in a string, a
# standard string ending in a backslash, `\n` that is two characters, function bodies in dollar
# quotes holding `;` and an INSERT.
POSTGRES_WITH_A_BACKTICK = r"""-- Load with `psql -f blog.sql`
\c blog;
SET search_path = public;
CREATE TABLE posts (id integer, path text, body text);
CREATE FUNCTION audit() RETURNS trigger AS $$
BEGIN
  RAISE NOTICE 'audit';
  INSERT INTO posts VALUES (99, 'from the function', 'never a row');
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION stamp() RETURNS trigger AS $body$
BEGIN PERFORM 1; INSERT INTO posts VALUES (98, 'tagged body', 'never a row'); RETURN NEW; END;
$body$ LANGUAGE plpgsql;
INSERT INTO posts VALUES (1, 'C:\temp\', 'two characters: \n, and a `tick`');
INSERT INTO posts VALUES (2, 'D:\', 'the rest of the file');
"""


def test_a_postgres_dump_with_a_backtick_keeps_standard_strings_and_whole_function_bodies(tmp_path):
    assert list(iter_rows(_dump(tmp_path, POSTGRES_WITH_A_BACKTICK))) == [
        ("posts", {"id": 1, "path": "C:\\temp\\", "body": "two characters: \\n, and a `tick`"}),
        ("posts", {"id": 2, "path": "D:\\", "body": "the rest of the file"}),
    ]


def test_mysql_words_inside_postgres_strings_do_not_make_it_mysql(tmp_path):
    dump = (
        "CREATE TABLE notes (id integer, body text);\n"
        "INSERT INTO notes VALUES (1, 'In MySQL: LOCK TABLES `t` WRITE; ENGINE=InnoDB /*!40101 x */');\n"
        "INSERT INTO notes VALUES (2, 'ends in \\');\n"
        "INSERT INTO notes VALUES (3, 'cast: ''x''::text');\n"
    )
    assert [row["body"] for _, row in iter_rows(_dump(tmp_path, dump))] == [
        "In MySQL: LOCK TABLES `t` WRITE; ENGINE=InnoDB /*!40101 x */",
        "ends in \\",
        "cast: 'x'::text",
    ]


def test_a_mysql_dump_without_its_header_is_still_read_with_backslash_escapes(tmp_path):
    dump = (
        "CREATE TABLE `notes` (`id` int, `body` text) ENGINE=InnoDB;\n"
        "INSERT INTO `notes` VALUES (1,'it\\'s a \\\\ and a\\nnewline'),(2,'costs $$5, cast::text');\n"
    )
    assert [row["body"] for _, row in iter_rows(_dump(tmp_path, dump))] == [
        "it's a \\ and a\nnewline",
        "costs $$5, cast::text",
    ]


def test_pg_dump_header_decides_whatever_follows(tmp_path):
    dump = "--\n-- PostgreSQL database dump\n--\nINSERT INTO `t` VALUES ('a\\');\n"
    assert list(iter_rows(_dump(tmp_path, dump))) == [("t", {"col1": "a\\"})]


# --- SQL Server: SSMS "Generate Scripts" -------------------------------------------------

SSMS = """USE [Chinook]
GO
/****** Object:  Table [dbo].[Album]    Script Date: 1/2/2024 ******/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
GO
CREATE TABLE [dbo].[Album](
\t[AlbumId] [int] IDENTITY(1,1) NOT NULL,
\t[Title] [nvarchar](160) NOT NULL,
\t[Added] [datetime] NULL,
 CONSTRAINT [PK_Album] PRIMARY KEY CLUSTERED ([AlbumId] ASC)
) ON [PRIMARY]
GO
SET IDENTITY_INSERT [dbo].[Album] ON

INSERT [dbo].[Album] ([AlbumId], [Title], [Added]) VALUES (1, N'For Those About To Rock', CAST(N'2009-01-01T00:00:00.000' AS DateTime))
INSERT [dbo].[Album] ([AlbumId], [Title], [Added]) VALUES (2, N'It''s a [bracket]', NULL)
SET IDENTITY_INSERT [dbo].[Album] OFF
GO
SET NOCOUNT ON
SET IDENTITY_INSERT [dbo].[Track] ON
INSERT [dbo].[Track] ([TrackId], [Name]) VALUES (1, N'Balls to the Wall')
SET IDENTITY_INSERT [dbo].[Track] OFF
GO
"""


def test_ssms_batches_opened_by_set_identity_insert_are_read(tmp_path):
    assert list(iter_rows(_dump(tmp_path, SSMS))) == [
        ("Album", {"AlbumId": 1, "Title": "For Those About To Rock", "Added": "2009-01-01T00:00:00.000"}),
        ("Album", {"AlbumId": 2, "Title": "It's a [bracket]", "Added": None}),
        ("Track", {"TrackId": 1, "Name": "Balls to the Wall"}),
    ]


def test_one_bad_insert_of_an_ssms_batch_rejects_only_itself(tmp_path):
    dump = """SET IDENTITY_INSERT [dbo].[Album] ON
INSERT [dbo].[Album] ([AlbumId], [Title]) VALUES (1, N'Kept before')
INSERT [dbo].[Album] ([AlbumId], [Title]) VALUES (2, N'Cut off' 'here')
INSERT [dbo].[Album] ([AlbumId], [Title]) VALUES (3, N'Kept after')
SET IDENTITY_INSERT [dbo].[Album] OFF
GO
"""
    errors: list[tuple[str, str]] = []
    rows = list(iter_numbered_rows(_dump(tmp_path, dump), on_error=lambda where, why: errors.append((where, why))))
    assert [(number, row["Title"]) for _, number, row in rows] == [(1, "Kept before"), (3, "Kept after")]
    assert [where for where, _ in errors] == ["statement 1 (line 3, 1 row)"]


# --- sqlite3 shell .dump: replace(), char() and || are evaluated, nothing else ----------------


def test_sqlite_shell_replace_expressions_give_the_text_with_its_newlines(tmp_path):
    dump = """PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE t(id INTEGER, body TEXT);
INSERT INTO t VALUES(1,replace('line1\\nline2','\\n',char(10)));
INSERT INTO t VALUES(2,replace(replace('a\\r\\nb','\\r',char(13)),'\\n',char(10)));
INSERT INTO t VALUES(3,'tab:'||char(9)||'end' || NULL);
INSERT INTO t VALUES(4,'it''s' || ' ' || char(72, 105));
COMMIT;
"""
    assert [row["body"] for _, row in iter_rows(_dump(tmp_path, dump))] == [
        "line1\nline2",
        "a\r\nb",
        None,
        "it's Hi",
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "lower('X')",
        "replace('a','b')",
        "char('x')",
        "char(1114112)",
        "replace('a', 'b', upper('c'))",
        "1 || 'x'",
        "'a' ||",
    ],
)
def test_other_expressions_are_refused_not_evaluated(tmp_path, expression):
    errors = []
    dump = f"INSERT INTO t VALUES(1, {expression});\n"
    assert list(iter_rows(_dump(tmp_path, dump), on_error=lambda loc, why: errors.append(why))) == []
    assert len(errors) == 1


def test_deeply_nested_replace_is_refused(tmp_path):
    expression = "replace(" * 200 + "'x'" + ",'a','b')" * 200
    errors = []
    dump = _dump(tmp_path, f"INSERT INTO t VALUES(1, {expression});\n")
    assert list(iter_rows(dump, on_error=lambda loc, why: errors.append(why))) == []
    assert "nested" in errors[0]


# --- row numbers: a rejected statement's rows still count ---------------------------------


def test_rows_keep_their_true_numbers_after_rejected_statements(tmp_path):
    dump = """CREATE TABLE t (a int, b text);
INSERT INTO t VALUES (1, 'one'), (2, 'two');
INSERT INTO t VALUES (3, now()), (4, 'four');
INSERT INTO u VALUES (1, 'other table');
INSERT INTO t VALUES (5, 'five', 'extra'), (6, 'six');
INSERT INTO t VALUES (7, 'seven');
COPY t (a, b) FROM stdin;
8\teight
9
10\tten
\\.
"""
    rows = list(iter_numbered_rows(_dump(tmp_path, dump), on_error=lambda loc, why: None))
    assert [(table, number, next(iter(row.values()))) for table, number, row in rows] == [
        ("t", 1, 1),
        ("t", 2, 2),
        ("u", 1, 1),
        ("t", 7, 7),
        ("t", 8, 8),
        ("t", 10, 10),
    ]


def test_record_sources_carry_the_true_row_numbers(tmp_path):
    from llm_pipeline.records import Record
    from llm_pipeline.stages.plaintext.formats import sql
    from llm_pipeline.stages.plaintext.report import IngestReport

    path = _dump(
        tmp_path,
        "CREATE TABLE t (id int, body text);\n"
        "INSERT INTO t VALUES (1, 'The first note is long enough to be kept as text.');\n"
        "INSERT INTO t VALUES (2, lower('refused'));\n"
        "INSERT INTO t VALUES (3, 'The third note is long enough to be kept as text.');\n",
    )
    items = list(sql.read(path, "sql/dump.sql", sql.Settings(), IngestReport()))
    assert [item.source for item in items if isinstance(item, Record)] == [
        "sql/dump.sql table t row 1",
        "sql/dump.sql table t row 3",
    ]
