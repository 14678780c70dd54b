"""JSONL ingestion: every line ends as a record or a rejection with its line number."""

import json

from llm_pipeline.records import Record, Rejection
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings


def test_jsonl_lines_become_records_or_located_rejections(tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"text": "A plain paragraph about tides."}),
        "",
        json.dumps({"instruction": "Translate", "input": "bonjour", "output": "hello"}),
        '{"input": "broken',
        json.dumps({"prompt": "Why is the sky blue?", "response": "Rayleigh scattering."}),
        json.dumps({"id": 7}),
        json.dumps(["not", "an", "object"]),
    ]
    path.write_text("\n".join(lines) + "\n")
    report = IngestReport()
    items = list(read_raw_file(path, "jsonl/mixed.jsonl", "jsonl", PlaintextSettings(), report))
    records = [item for item in items if isinstance(item, Record)]
    rejections = {item.source: item.reason for item in items if isinstance(item, Rejection)}
    assert [record.text or record.input for record in records] == [
        "A plain paragraph about tides.",
        "Translate\n\nbonjour",
        "Why is the sky blue?",
    ]
    assert records[2].output == "Rayleigh scattering." and records[0].source == "jsonl/mixed.jsonl line 1"
    assert rejections == {
        "jsonl/mixed.jsonl line 4": "bad_json_line",
        "jsonl/mixed.jsonl line 6": "no_text_fields",
        "jsonl/mixed.jsonl line 7": "bad_json_line",
    }
    assert sum(report.records.values()) == 3 and sum(report.rejected.values()) == 3


def test_empty_file_is_quarantined_not_ignored(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    items = list(read_raw_file(path, "jsonl/empty.jsonl", "jsonl", PlaintextSettings(), IngestReport()))
    assert [(item.reason, item.source) for item in items] == [("empty_file", "jsonl/empty.jsonl")]
