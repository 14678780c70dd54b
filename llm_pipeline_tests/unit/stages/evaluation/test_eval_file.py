"""A user's eval file: aliases, bad lines with their numbers, and the data-directory rule."""

import pytest

from llm_pipeline.stages.evaluation.eval_file import EvalFileError, read_eval_file
from llm_pipeline.storage.layout import DataLayout

LINES = [
    '{"prompt": "Capital of France?", "answer": "Paris"}',
    '{"question": "Bees make?", "expected": "honey"}',
    "not json at all",
    '{"input": "2 + 2?", "output": 4}',
    '{"prompt": "no answer here"}',
    "",
    '{"instruction": "Say hi", "reference": ["hi"]}',
    '{"query": "   ", "response": "x"}',
    '["an", "array"]',
    '{"prompt": "Blue?", "target": "yes", "prompt": "Red?"}',
]


def write(layout: DataLayout, text: str, name: str = "eval/mine.jsonl"):
    path = layout.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_line_is_an_item_or_a_bad_line_with_its_number(tmp_path):
    layout = DataLayout(tmp_path)
    write(layout, "\n".join(LINES) + "\n")
    read = read_eval_file(layout, "eval/mine.jsonl")
    assert [(item.line, item.prompt, item.answer) for item in read.items] == [
        (1, "Capital of France?", "Paris"),
        (2, "Bees make?", "honey"),
        (4, "2 + 2?", "4"),  # a number as the file writes it
    ]
    bad = {line.line: line.reason for line in read.bad_lines}
    assert sorted(bad) == [3, 5, 7, 8, 9, 10]  # line 6 is blank: no item, no error
    assert bad[3].startswith("not a JSON object") and "no answer: expected one of the keys answer" in bad[5]
    assert bad[7] == "reference is a JSON array, not a string" and bad[8] == "query is empty"
    assert "not an object" in bad[9] and "duplicate key 'prompt'" in bad[10]
    assert len(read.sha256) == 64


def test_a_file_outside_the_data_directory_missing_or_without_an_item_is_refused(tmp_path):
    layout = DataLayout(tmp_path / "data")
    (tmp_path / "outside.jsonl").write_text('{"prompt": "a", "answer": "b"}\n')
    with pytest.raises(EvalFileError, match="leaves the data directory"):
        read_eval_file(layout, "../outside.jsonl")
    with pytest.raises(EvalFileError, match="leaves the data directory"):
        read_eval_file(layout, str(tmp_path / "outside.jsonl"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link.jsonl").symlink_to(tmp_path / "outside.jsonl")
    with pytest.raises(EvalFileError, match="leaves the data directory"):
        read_eval_file(layout, "link.jsonl")  # a link out counts as outside
    with pytest.raises(EvalFileError, match="'missing.jsonl' is no file in the data directory"):
        read_eval_file(layout, "missing.jsonl")
    write(layout, "oops\n{}\n", "bad.jsonl")
    with pytest.raises(EvalFileError, match=r"no usable prompt and answer \(line 1: not a JSON object"):
        read_eval_file(layout, "bad.jsonl")
