"""SQL dumps and CSV files through ingestion: mapping, blobs, rejections with their location."""

import typing

from llm_pipeline.parse.html import MODES
from llm_pipeline.records import Record, Rejection
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.formats import sql
from llm_pipeline.stages.plaintext.formats.html import HtmlMode
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings


def _read(path, name: str, fmt: str, settings: PlaintextSettings | None = None):
    settings = settings or PlaintextSettings()
    report = IngestReport()
    items = list(read_raw_file(path, name, fmt, settings, report))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)], report


MYSQL_WITH_BLOBS = r"""CREATE TABLE `files` (`id` int, `caption` text, `data` longblob);
LOCK TABLES `files` WRITE;
/*!40000 ALTER TABLE `files` DISABLE KEYS */;
INSERT INTO `files` VALUES (1,'A photo of the harbour at dawn, taken from the old pier.',X'89504E470D0A1A0A'),(2,'A scan of the 1912 map of the town, with the mill marked.',0x25504446);
/*!40000 ALTER TABLE `files` ENABLE KEYS */;
UNLOCK TABLES;
"""


def test_blob_columns_never_become_text(tmp_path):
    path = tmp_path / "files.sql"
    path.write_text(MYSQL_WITH_BLOBS)
    records, rejections, report = _read(path, "sql/files.sql", "sql")
    assert [r.text for r in records] == [
        "A photo of the harbour at dawn, taken from the old pier.",
        "A scan of the 1912 map of the town, with the mill marked.",
    ]
    assert rejections == [] and report.mappings["sql/files.sql:files"] == "text <- caption"
    # Asked for the blob anyway: each row is rejected with its location, never decoded as text.
    settings = PlaintextSettings(sql=sql.Settings(tables={"files": ColumnMapping(text=("data",))}))
    records, rejections, _ = _read(path, "sql/files.sql", "sql", settings)
    assert records == []
    assert [(r.reason, r.source) for r in rejections] == [
        ("binary_value", "sql/files.sql table files row 1"),
        ("binary_value", "sql/files.sql table files row 2"),
    ]


def test_a_bad_statement_is_quarantined_and_the_rest_of_the_dump_kept(tmp_path):
    path = tmp_path / "posts.sql"
    path.write_text(
        "CREATE TABLE posts (id int, body text);\n"
        "INSERT INTO posts VALUES (1, 'The first post is long enough to be text.');\n"
        "INSERT INTO posts VALUES (2, 'never closed);\n"
    )
    records, rejections, _ = _read(path, "sql/posts.sql", "sql")
    assert [r.source for r in records] == ["sql/posts.sql table posts row 1"]
    assert [(r.reason, r.source) for r in rejections] == [
        ("bad_sql_statement", "sql/posts.sql statement 3 (line 3, 1 row)")
    ]


def test_csv_rows_keep_long_cells_and_ragged_rows_are_located(tmp_path):
    long_answer = "Water the tomatoes at the base, never the leaves; " * 10
    path = tmp_path / "faq.csv"
    path.write_text(f'question,answer\n"How to water?","{long_answer}"\nbad,row,here\n')
    records, rejections, _ = _read(path, "csv/faq.csv", "csv")
    assert [(r.input, r.output) for r in records] == [("How to water?", long_answer.strip())]  # mapping strips ends
    assert [(r.reason, r.source) for r in rejections] == [("bad_csv_row", "csv/faq.csv line 3")]


def test_the_config_html_modes_are_the_parser_modes():
    assert typing.get_args(HtmlMode) == MODES


def test_csv_cells_reach_the_records_exactly_as_written(tmp_path):
    # An Excel `sep=;` line names the delimiter; entity-like text is text, not HTML to decode.
    question = "How do I pass a timestamp in the feed URL?"
    answer = "Add &timestamp=1700000000&section=news&copy=1; in HTML write &lt;a href&gt;, never <a href>."
    path = tmp_path / "faq.csv"
    path.write_bytes(f'sep=;\nquestion;answer\n"{question}";"{answer}"\n'.encode("utf-32"))
    records, rejections, report = _read(path, "csv/faq.csv", "csv")
    assert [(r.input, r.output, r.source) for r in records] == [(question, answer, "csv/faq.csv row 1")]
    assert rejections == [] and report.mappings["csv/faq.csv"] == "input <- question; output <- answer"
