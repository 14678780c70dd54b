"""Pure-module tests: record ids, column mapping, split (filters, dedup and clustering: test_filters.py,
test_dedup.py, test_cluster.py)."""

import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.plaintext.columns import ColumnMapping, infer_mapping
from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION, assign_split, split_position


def qa(prompt: str, answer: str, source: str = "test") -> Record:
    return Record.supervised(prompt, answer, source, "jsonl")


def test_record_id_depends_on_content_only():
    assert qa("a", "b", "one.jsonl").id == qa("a", "b", "two.csv").id
    assert qa("ab", "c").id != qa("a", "bc").id


@pytest.mark.parametrize("between", ["\x1f", "\n", "\x00", ""])
def test_no_text_takes_the_id_of_a_prompt_response_pair(between):
    # Caches are keyed by id: a shared id would hand one record the other's verdict and tokens.
    assert Record.unsupervised(f"Q{between}A", "test", "jsonl").id != qa("Q", "A").id
    assert qa(f"Q{between}", "A").id != qa("Q", f"{between}A").id or between == ""


def test_infer_mapping_recognises_common_layouts():
    assert infer_mapping([{"question": "q", "answer": "a"}]) == ColumnMapping(input=("question",), output="answer")
    alpaca = infer_mapping([{"instruction": "i", "input": "x", "output": "o"}])
    assert alpaca == ColumnMapping(input=("instruction", "input"), output="output")
    assert infer_mapping([{"id": 1, "title": "T", "body": "B"}]) == ColumnMapping(text=("title", "body"))


def test_infer_mapping_falls_back_to_longest_free_text_column():
    rows = [{"code": "x1", "notes": "a fairly long free text note about something useful"}] * 3
    assert infer_mapping(rows) == ColumnMapping(text=("notes",))
    assert infer_mapping([{"id": 1, "email": "a@b.c"}]) is None


def test_mapping_reports_why_a_row_is_not_a_record():
    mapping = ColumnMapping(input=("instruction", "input"), output="output")
    record = mapping.to_record({"instruction": "Add", "input": "2 and 3", "output": "5"}, "f row 1", "csv")
    assert record.input == "Add\n\n2 and 3" and record.output == "5"
    assert mapping.to_record({"instruction": "Add", "input": "", "output": " "}, "s", "csv") == "empty_output"
    assert ColumnMapping(text=("body",)).to_record({"body": b"\x89PNG"}, "s", "sql") == "binary_value"
    assert ColumnMapping(text=("body",)).to_record({"title": "x"}, "s", "sql") == "missing_column: body"


def test_split_is_stable_and_keeps_shared_prompts_together():
    one, two = qa("Explain TCP", "answer one"), qa("  explain   tcp ", "a different answer")
    assert split_position(one) == split_position(two)
    assert assign_split(one, 0.5) == assign_split(two, 0.5)
    sides = [assign_split(qa(f"prompt {index}", "x"), 0.2) for index in range(2000)]
    assert 0.16 < sides.count(VALIDATION) / len(sides) < 0.24
    assert sides == [assign_split(qa(f"prompt {index}", "x"), 0.2) for index in range(2000)]
    assert assign_split(one, 0.2, salt="other") in (TRAIN, VALIDATION)
    with pytest.raises(ValueError):
        assign_split(one, 1.5)
