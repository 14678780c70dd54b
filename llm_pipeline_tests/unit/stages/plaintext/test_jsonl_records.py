"""JSONL ingestion: every line ends as a record or a rejection with its line number."""

import json
import sys

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


def _read(path, name: str):
    items = list(read_raw_file(path, name, "jsonl", PlaintextSettings(), IngestReport()))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_a_line_nested_too_deeply_is_quarantined_and_the_next_lines_are_read(tmp_path):
    depth = 100_000
    path = tmp_path / "deep.jsonl"
    lines = [
        '{"text": ' + "[" * depth + "]" * depth + "}",
        json.dumps({"text": "The line after the deep one."}),
        json.dumps({"text": "Moderately nested metadata still parses.", "meta": json.loads("[" * 200 + "]" * 200)}),
    ]
    path.write_text("\n".join(lines) + "\n")
    limit = sys.getrecursionlimit()
    records, rejections = _read(path, "jsonl/deep.jsonl")
    assert [(r.reason, r.source) for r in rejections] == [("bad_json_line", "jsonl/deep.jsonl line 1")]
    assert "nested too deeply" in rejections[0].detail
    assert [r.text for r in records] == ["The line after the deep one.", "Moderately nested metadata still parses."]
    assert sys.getrecursionlimit() == limit


def test_nan_and_infinity_are_not_json(tmp_path):
    path = tmp_path / "constants.jsonl"
    path.write_text(
        '{"text": NaN}\n{"text": "Tides turn twice a day.", "score": Infinity}\n{"text": -Infinity}\n'
        '{"text": "A fine line.", "score": 1e308}\n'
    )
    records, rejections = _read(path, "jsonl/constants.jsonl")
    assert [r.text for r in records] == ["A fine line."]
    assert [(r.reason, r.source) for r in rejections] == [
        ("bad_json_line", f"jsonl/constants.jsonl line {n}") for n in (1, 2, 3)
    ]
    for rejection, constant in zip(rejections, ("NaN", "Infinity", "-Infinity"), strict=True):
        assert rejection.detail.endswith(f": {constant} is not a JSON value")


def test_scalars_are_rendered_as_json_writes_them(tmp_path):
    path = tmp_path / "scalars.jsonl"
    many_digits = "9" * 5000  # over Python's int-to-string digit limit
    path.write_text(
        '{"text": true}\n{"instruction": "Is compost alive?", "output": false}\n{"text": 1.50}\n{"text": 1e400}\n'
        f'{{"text": -0}}\n{{"text": {many_digits}}}\n{{"text": null}}\n{{"text": ["a", "list"]}}\n'
        '{"text": {"nested": "object"}}\n'
    )
    records, rejections = _read(path, "jsonl/scalars.jsonl")
    assert [r.text or f"{r.input} -> {r.output}" for r in records] == [
        "true",
        "Is compost alive? -> false",
        "1.50",
        "1e400",
        "-0",
        many_digits,
    ]
    assert [(r.reason, r.source) for r in rejections] == [
        ("empty_text", "jsonl/scalars.jsonl line 7"),
        ("nested_value", "jsonl/scalars.jsonl line 8"),
        ("nested_value", "jsonl/scalars.jsonl line 9"),
    ]


def test_a_key_given_twice_with_different_values_is_quarantined(tmp_path):
    path = tmp_path / "dupes.jsonl"
    path.write_text(
        '{"text": "first", "text": "second"}\n'
        '{"text": "The same value twice loses nothing.", "text": "The same value twice loses nothing."}\n'
        '{"text": "Nested objects are checked too.", "meta": {"k": "a", "k": "b"}}\n'
        '{"text": "One and one point zero differ as written.", "n": 1, "n": 1.0}\n'
        '{"text": "true is not 1, though Python says True == 1.", "flag": true, "flag": 1}\n'
    )
    records, rejections = _read(path, "jsonl/dupes.jsonl")
    assert [r.text for r in records] == ["The same value twice loses nothing."]
    assert [(r.reason, r.source) for r in rejections] == [
        ("duplicate_key", f"jsonl/dupes.jsonl line {n}") for n in (1, 3, 4, 5)
    ]
    assert ["'text'" in rejections[0].detail, "'k'" in rejections[1].detail] == [True, True]
