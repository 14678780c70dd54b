"""Parquet files (how Hugging Face datasets are downloaded): every row, read batch by batch, ends
as a record or a rejection with its row number; a file that is not Parquet is quarantined whole."""

import pyarrow as pa
import pyarrow.parquet as pq

from llm_pipeline.records import Record, Rejection
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.formats import parquet
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings


def _read(path, name: str, settings: PlaintextSettings | None = None):
    report = IngestReport()
    items = list(read_raw_file(path, name, "parquet", settings or PlaintextSettings(), report))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)], report


def test_rows_across_batches_and_row_groups_become_records_in_order(tmp_path):
    path = tmp_path / "train-00000-of-00001.parquet"
    questions = [f"How long do I boil egg number {n}?" for n in range(1, 8)]
    answers = [f"About {n} minutes for egg {n}." for n in range(1, 8)]
    answers[4] = ""  # an empty response is rejected, with its row
    table = pa.table({"id": list(range(1, 8)), "question": questions, "answer": answers})
    pq.write_table(table, path, row_group_size=3)  # three row groups
    settings = PlaintextSettings(parquet=parquet.Settings(batch_size=2))  # and batches smaller than them
    records, rejections, report = _read(path, "parquet/qa/train-00000-of-00001.parquet", settings)
    assert [(r.input, r.output) for r in records] == [(questions[n], answers[n]) for n in range(7) if n != 4]
    assert records[0].source == "parquet/qa/train-00000-of-00001.parquet row 1" and records[0].format == "parquet"
    assert records[-1].source == "parquet/qa/train-00000-of-00001.parquet row 7"
    assert [(r.reason, r.source) for r in rejections] == [
        ("empty_output", "parquet/qa/train-00000-of-00001.parquet row 5")
    ]
    assert report.mappings["parquet/qa/train-00000-of-00001.parquet"] == "input <- question; output <- answer"
    assert report.records["parquet"] == 6 and report.files["parquet"] == 1


def test_binary_and_nested_columns_are_never_text(tmp_path):
    path = tmp_path / "images.parquet"
    caption = "A photo of the harbour at dawn, taken from the old pier."
    table = pa.table(
        {
            "caption": [caption],
            "image": pa.array([b"\x89PNG\r\n\x1a\n"], type=pa.binary()),
            "tags": [["harbour", "dawn"]],
        }
    )
    pq.write_table(table, path)
    records, rejections, report = _read(path, "parquet/images.parquet")
    assert [r.text for r in records] == [caption] and rejections == []  # inferred: the free-text column
    assert report.mappings["parquet/images.parquet"] == "text <- caption"
    for columns, reason in ((("image",), "binary_value"), (("tags",), "nested_value")):
        settings = PlaintextSettings(parquet=parquet.Settings(columns=ColumnMapping(text=columns)))
        records, rejections, _ = _read(path, "parquet/images.parquet", settings)
        assert records == [] and [(r.reason, r.source) for r in rejections] == [
            (reason, "parquet/images.parquet row 1")
        ]


def test_a_file_that_is_not_parquet_is_one_unreadable_file_rejection(tmp_path):
    path = tmp_path / "notes.parquet"
    path.write_text("id,text\n1,a CSV file saved under the wrong folder\n")
    records, rejections, _ = _read(path, "parquet/notes.parquet")
    assert records == []
    [rejection] = rejections
    assert (rejection.reason, rejection.source) == ("unreadable_file", "parquet/notes.parquet")
    assert "Parquet" in rejection.detail


def test_empty_files_and_tables_without_rows_are_quarantined_not_ignored(tmp_path):
    (tmp_path / "empty.parquet").write_bytes(b"")
    pq.write_table(pa.table({"text": pa.array([], type=pa.string())}), tmp_path / "no_rows.parquet")
    pq.write_table(pa.table({"id": [1, 2], "label": ["a", "b"]}), tmp_path / "labels.parquet")
    assert [(r.reason, r.source) for r in _read(tmp_path / "empty.parquet", "parquet/empty.parquet")[1]] == [
        ("empty_file", "parquet/empty.parquet")
    ]
    assert [(r.reason, r.source) for r in _read(tmp_path / "no_rows.parquet", "parquet/no_rows.parquet")[1]] == [
        ("no_records", "parquet/no_rows.parquet")
    ]
    [no_text] = _read(tmp_path / "labels.parquet", "parquet/labels.parquet")[1]
    assert no_text.reason == "no_text_column" and no_text.detail == "2 rows; columns: ['id', 'label']"
