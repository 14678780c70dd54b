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
    assert raw_count(page, "html") == 1 and raw_count(tmp_path / "dump.sql", "sql") is None


def test_sources_are_matched_to_file_names_that_hold_spaces():
    names = {"csv/my notes.csv", "csv/my"}
    assert file_of("csv/my notes.csv row 3", names) == "csv/my notes.csv"
    assert file_of("csv/my notes.csv", names) == "csv/my notes.csv"
    assert file_of("db:library row 3", names) is None
