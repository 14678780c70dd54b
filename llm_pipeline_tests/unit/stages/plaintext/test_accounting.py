"""Each raw file counted a second way: a row the parser never handed out shows as a mismatch."""

from __future__ import annotations

import gzip
import json

from llm_pipeline.stages.plaintext.accounting import account, file_of, raw_count


def test_a_line_no_record_or_entry_accounts_for_is_a_mismatch(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps({"text": f"note {n}"}) + "\n" for n in range(1, 5)) + "\n   \n")
    sources = ["jsonl/notes.jsonl line 1", "jsonl/notes.jsonl line 2", "jsonl/notes.jsonl line 4"]
    (short,) = account([(notes, "jsonl/notes.jsonl", "jsonl")], sources, [])
    assert (short.raw_count, short.items, short.balanced) == (4, 3, False)  # line 3 vanished silently

    (whole,) = account([(notes, "jsonl/notes.jsonl", "jsonl")], sources, ["jsonl/notes.jsonl line 3"])
    assert whole.balanced


def test_an_entry_naming_the_whole_file_accounts_for_what_it_lost(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c"}\n')
    (entry,) = account([(notes, "jsonl/notes.jsonl", "jsonl")], ["jsonl/notes.jsonl line 1"], ["jsonl/notes.jsonl"])
    assert entry.balanced and entry.whole_file_entries == 1


def test_a_page_is_one_record_named_by_the_file_itself(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    (entry,) = account([(page, "html/page.html", "html")], ["html/page.html"], [])
    assert (entry.raw_count, entry.items, entry.whole_file_entries, entry.balanced) == (1, 1, 0, True)


def test_the_second_readers_count_rows_lines_elements_and_pages(tmp_path):
    table = tmp_path / "qa.csv"
    table.write_text('question,answer\n"Why, then?","Because\nof the rain."\n\nWhat?,This.\n')
    assert raw_count(table, "csv") == 2  # a quoted newline is one row; a blank line is none
    excel = tmp_path / "excel.csv"
    excel.write_text("sep=;\nquestion;answer\nWhy?;Because.\n")
    assert raw_count(excel, "csv") == 1
    packed = tmp_path / "notes.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"text": "a"}\n\n{"text": "b"}\n'))
    assert raw_count(packed, "jsonl") == 2  # decompressed first, as the stage reads it
    array = tmp_path / "data.json"
    array.write_text('[{"instruction": "a", "output": "b"}, {"instruction": "c", "output": "d"}]')
    assert raw_count(array, "json") == 2
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    assert raw_count(page, "html") == 1 and raw_count(tmp_path / "missing.sql", "sql") is None


def test_sources_are_matched_to_file_names_that_hold_spaces():
    names = {"csv/my notes.csv", "csv/my"}
    assert file_of("csv/my notes.csv row 3", names) == "csv/my notes.csv"
    assert file_of("csv/my notes.csv", names) == "csv/my notes.csv"
    assert file_of("db:library row 3", names) is None


SQL_DIALECTS = {
    # MySQL: backslash escapes, an INSERT in a trigger body, ON DUPLICATE KEY's VALUES(...)
    "mysql.sql": """-- MySQL dump 10.13
INSERT INTO `t` VALUES (1,'it\\'s (not) a row; really'),(2,'b');
DELIMITER ;;
CREATE TRIGGER trg BEFORE INSERT ON `t` FOR EACH ROW BEGIN INSERT INTO `log` VALUES (99); END ;;
DELIMITER ;
INSERT INTO `t` VALUES (3,'c') ON DUPLICATE KEY UPDATE b = VALUES(b);
""",
    # PostgreSQL: a function body in dollar quotes, a backslash at the end of a value, COPY
    "postgres.sql": """-- PostgreSQL database dump
CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN INSERT INTO audit VALUES (99); END; $body$ LANGUAGE plpgsql;
INSERT INTO public.t (a, b) VALUES (1, 'C:\\'), (2, E'it\\'s');
COPY public.t (a, b) FROM stdin;
3\tthree
4\t(four)
\\.
INSERT INTO public.t (a, b) VALUES (5, 'e') ON CONFLICT (a) DO UPDATE SET b = excluded.b;
""",
    # SQL Server: SET lines open the batch, INSERTs without ';', bracketed names
    "sqlserver.sql": """SET IDENTITY_INSERT [dbo].[t] ON
INSERT [dbo].[t] ([a], [b)]) VALUES (1, N'one')
INSERT [dbo].[t] ([a], [b)]) VALUES (2, N'two (2)')
SET IDENTITY_INSERT [dbo].[t] OFF
GO
""",
    # the sqlite3 shell: replace() and char() calls inside a row
    "sqlite.sql": """BEGIN TRANSACTION;
INSERT INTO t VALUES(1,replace('a\\nb','\\n',char(10)));
INSERT OR REPLACE INTO "t" VALUES(2,'x');
COMMIT;
""",
}


def test_sql_dumps_are_counted_by_a_scanner_of_their_own(tmp_path):
    from llm_pipeline.parse.sql import iter_rows

    expected = {"mysql.sql": 3, "postgres.sql": 5, "sqlserver.sql": 2, "sqlite.sql": 2}
    for name, dump in SQL_DIALECTS.items():
        path = tmp_path / name
        path.write_text(dump)
        assert raw_count(path, "sql") == expected[name], name
        assert len(list(iter_rows(path))) == expected[name], name  # the parser agrees


def test_a_rejected_statement_accounts_for_the_rows_it_held_and_unmapped_tables_for_theirs(tmp_path):
    dump = tmp_path / "forum.sql"
    dump.write_text(
        "INSERT INTO posts VALUES (1, 'kept'), (2, 'kept');\n"
        "INSERT INTO posts VALUES (3, 'bad'), (4, now());\n"
        "INSERT INTO tags VALUES (1), (2), (3);\n"
    )
    files = [(dump, "sql/forum.sql", "sql")]
    records = ["sql/forum.sql table posts row 1", "sql/forum.sql table posts row 2"]
    rejected = ["sql/forum.sql statement 2 (line 2, 2 rows)"]
    (entry,) = account(files, records, rejected, {"sql/forum.sql:tags": 3})
    assert (entry.raw_count, entry.items, entry.balanced) == (7, 7, True)
    (short,) = account(files, records, ["sql/forum.sql statement 2 (line 2)"], {"sql/forum.sql:tags": 3})
    assert (short.items, short.balanced) == (5, False)  # two rows no entry owns
    # A row the mapping refused (an empty text) is one row, like a record.
    row_level = ["sql/forum.sql table posts row 2", "sql/forum.sql statement 2 (line 2, 2 rows)"]
    (mapped,) = account(files, records[:1], row_level, {"sql/forum.sql:tags": 3})
    assert (mapped.items, mapped.balanced) == (7, True)
