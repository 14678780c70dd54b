"""The splits stage's run: both sides saved and exported as JSONL, stable, and an empty side refused."""

import json

import datasets
import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION, assign_split
from llm_pipeline.stages.splits.run import EmptySplitError, run
from llm_pipeline.stages.splits.settings import SplitSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import save_records
from llm_pipeline.validators import shared_prompts


def records() -> list[Record]:
    questions = [
        Record.supervised(f"Question number {i}?", f"Answer {i}.", f"qa.jsonl line {i}", "jsonl") for i in range(30)
    ]
    notes = [Record.unsupervised(f"A note about topic {i}.", f"notes.jsonl line {i}", "jsonl") for i in range(30)]
    return questions + notes


def test_sides_follow_the_prompt_hash_and_are_exported_as_jsonl(tmp_path):
    layout = DataLayout(tmp_path)
    save_records(records(), layout.stage("clustered"))
    messages = []
    result = run(layout, SplitSettings(validation_ratio=0.3, salt="s"), log=messages.append)

    saved = datasets.load_from_disk(str(layout.stage("splits")))
    assert set(saved) == {TRAIN, VALIDATION} and result.records == 60
    for side in (TRAIN, VALIDATION):
        assert len(saved[side]) > 0
        assert all(assign_split(Record.from_dict(row), 0.3, "s") == side for row in saved[side])
        lines = [json.loads(line) for line in result.jsonl[side].read_text(encoding="utf-8").splitlines()]
        assert [line["id"] for line in lines] == saved[side]["id"]
        assert all(None not in line.values() for line in lines)  # null fields left out
    assert result.jsonl[VALIDATION].name == "val.jsonl" and result.jsonl[TRAIN].name == "train.jsonl"
    exported = [
        json.loads(line) for side in (TRAIN, VALIDATION) for line in result.jsonl[side].read_text().splitlines()
    ]
    assert sum(set(row) >= {"input", "output"} and "text" not in row for row in exported) == 30
    assert messages == [f"train {len(saved[TRAIN])}, validation {len(saved[VALIDATION])}"]


def test_an_empty_side_is_a_clear_error_and_nothing_is_written(tmp_path):
    layout = DataLayout(tmp_path)
    save_records(records()[:1], layout.stage("clustered"))
    with pytest.raises(EmptySplitError, match=r"split is empty \(1 records in all\).*validation_ratio"):
        run(layout, SplitSettings(validation_ratio=0.5))
    assert not layout.stage("splits").exists()


def test_the_ratio_must_leave_both_sides_a_share():
    for ratio in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="validation_ratio must be between 0 and 1"):
            SplitSettings(validation_ratio=ratio)


def conversation(opening: str, answer: str, source: str) -> Record:
    turns = [("user", opening), ("assistant", answer), ("user", "And after that?"), ("assistant", "Rest it.")]
    return Record.chat([{"role": role, "content": content} for role, content in turns], source, "jsonl")


def test_conversations_opening_with_one_user_turn_share_a_side_and_export_as_messages(tmp_path):
    layout = DataLayout(tmp_path)
    pairs = [
        (
            conversation(f"How do I knead dough number {i}?", "Push, fold and turn it.", f"a.jsonl line {i}"),
            conversation(f"  how do I KNEAD dough number {i}? ", "Stretch it until smooth.", f"b.json item {i}"),
        )
        for i in range(20)
    ]
    save_records([record for pair in pairs for record in pair] + records(), layout.stage("clustered"))
    result = run(layout, SplitSettings(validation_ratio=0.3))
    side_of = {row["id"]: side for side in (TRAIN, VALIDATION) for row in result.splits[side]}
    assert all(side_of[one.id] == side_of[two.id] for one, two in pairs)
    assert {side_of[one.id] for one, _ in pairs} == {TRAIN, VALIDATION}
    train, validation = ([Record.from_dict(row) for row in result.splits[side]] for side in (TRAIN, VALIDATION))
    assert shared_prompts(train, validation) == []  # the leakage check reads the first user turn
    assert shared_prompts(train, [*validation, conversation(train[0].prompt, "Another answer.", "c")]) != []
    exported = [
        json.loads(line) for side in (TRAIN, VALIDATION) for line in result.jsonl[side].read_text().splitlines()
    ]
    chats = [row for row in exported if "messages" in row]
    assert len(chats) == 40 and all({"text", "input", "output"}.isdisjoint(row) for row in chats)
    first = next(row for row in chats if row["id"] == pairs[0][0].id)
    assert first["source"] == "a.jsonl line 0" and first["messages"] == [dict(turn) for turn in pairs[0][0].messages]
