"""SQL dumps -> (table, row): the four dialects, escapes, COPY blocks, and bad statements."""

from __future__ import annotations

import pytest

from llm_pipeline.parse.sql import UNSAFE_STATEMENT, iter_rows

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
    assert errors[0][0] == "statement 1 (line 3)"


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
    assert [loc for loc, _ in errors] == ["statement 3 (line 3)", "statement 4 (line 4)", "statement 6 (line 6)"]
    assert "1 values for the 2 columns" in errors[0][1]
    assert "unterminated string" in errors[2][1]


def test_without_on_error_a_bad_statement_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"statement 1 \(line 1\)"):
        list(iter_rows(_dump(tmp_path, "INSERT INTO t VALUES (1, now());\n")))


def test_a_bad_tuple_rejects_its_whole_statement(tmp_path):
    dump = "INSERT INTO t (a, b) VALUES (1, 2), (3), (5, 6);\n"
    errors = []
    rows = list(iter_rows(_dump(tmp_path, dump), on_error=lambda loc, why: errors.append(loc)))
    assert rows == [] and errors == ["statement 1 (line 1)"]


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
    assert errors == ["statement 1 (line 5)"]


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
