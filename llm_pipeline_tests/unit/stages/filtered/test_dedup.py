"""Exact and near-duplicate removal: who is kept, how groups are named, and that runs agree."""

import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.filtered.apply import FilterReport, apply_filters
from llm_pipeline.stages.filtered.dedup import NearDeduplicator, NearDuplicateSettings
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.text import shingles

ANSWER = (
    "Resting lets the gluten relax and the yeast produce gas, so the loaf rises evenly and the crumb "
    "stays open. Give a lean dough about an hour at room temperature, or leave it overnight in the "
    "fridge for more flavour, then shape it gently so the trapped gas stays inside."
)


def qa(prompt: str, answer: str, source: str = "test") -> Record:
    return Record.supervised(prompt, answer, source, "jsonl")


def edited(answer: str) -> str:
    return answer.replace("about an hour", "around an hour")


def test_shingles_fold_case_punctuation_and_keep_short_texts_whole():
    assert shingles("Paris.", 5) == shingles("  paris ", 5) == {b"paris"}
    assert shingles("Hello, World!", 5) == shingles("hello world", 5)
    assert len(shingles("abcdefg", 5)) == 3 and shingles("...", 5) == set()


def test_a_one_word_edit_is_a_near_duplicate_of_the_first_record():
    near = NearDeduplicator(NearDuplicateSettings())
    first = qa("Why does bread dough need to rest?", ANSWER, "a.jsonl line 1")
    assert near.original_of(first) is None
    match = near.original_of(qa("Why does bread dough need to rest?", edited(ANSWER), "b.csv row 7"))
    assert match is not None and (match.kept_id, match.kept_source) == (first.id, "a.jsonl line 1")
    assert 0.8 <= match.similarity < 1.0


def test_both_sides_must_be_alike():
    near = NearDeduplicator(NearDuplicateSettings())
    near.original_of(qa("Why does bread dough need to rest?", ANSWER))
    other_answer = "Because the starter needs time to wake up; feed it twice a day and wait until it doubles."
    assert near.original_of(qa("Why does bread dough need to rest?", other_answer)) is None  # same question
    assert near.original_of(qa("Summarize this baking advice in one line.", edited(ANSWER))) is None  # other task
    assert near.original_of(Record.unsupervised(edited(ANSWER), "notes.jsonl line 3", "jsonl")) is None  # other kind


def test_representative_is_the_first_in_input_order_and_runs_agree():
    records = [
        qa("Why does bread dough need to rest?", ANSWER, "a.jsonl line 1"),
        qa("Why does bread dough need to rest?", edited(ANSWER), "a.jsonl line 2"),
        qa("Why does bread dough need to rest?", edited(ANSWER).replace("gently", "carefully"), "b.jsonl line 1"),
        qa("How do I keep basil from bolting?", "Pinch off the flower buds as soon as they appear.", "b.jsonl line 2"),
    ]

    def decide(items):
        report = FilterReport()
        return [(d.record.source, d.reason, d.detail) for d in apply_filters(items, FilterSettings(), report)], report

    decisions, report = decide(records)
    assert [reason for _, reason, _ in decisions] == [None, "near_duplicate", "near_duplicate", None]
    assert all(
        f"of {records[0].id} (a.jsonl line 1); group {records[0].id}" in detail for _, _, detail in decisions[1:3]
    )
    assert report.duplicate_groups == {f"{records[0].id} (a.jsonl line 1)": 2}
    assert decide(records)[0] == decisions
    reordered, _ = decide([records[2], records[0], records[1], records[3]])
    assert [reason for _, reason, _ in reordered] == [None, "near_duplicate", "near_duplicate", None]
    assert f"of {records[2].id} (b.jsonl line 1)" in reordered[1][2]


def test_an_exact_copy_of_a_near_duplicate_joins_the_kept_records_group():
    first = qa("Why does bread dough need to rest?", ANSWER, "a line 1")
    near_copy = qa("Why does bread dough need to rest?", edited(ANSWER), "a line 2")
    report = FilterReport()
    decisions = list(apply_filters([first, near_copy, near_copy], FilterSettings(), report))
    assert [decision.reason for decision in decisions] == [None, "near_duplicate", "exact_duplicate"]
    assert f"group {first.id}" in decisions[2].detail
    assert report.duplicate_groups == {f"{first.id} (a line 1)": 2}


def test_near_duplicates_can_be_turned_off_and_the_threshold_raised():
    pair = [qa("Why does bread dough need to rest?", ANSWER), qa("Why does bread dough need to rest?", edited(ANSWER))]
    report = FilterReport()
    assert [d.reason for d in apply_filters(pair, FilterSettings(dedup_near=False), report)] == [None, None]
    strict = FilterSettings(near_duplicates=NearDuplicateSettings(threshold=0.99))
    assert [d.reason for d in apply_filters(pair, strict, FilterReport())] == [None, None]
    with pytest.raises(ValueError, match="threshold"):
        NearDeduplicator(NearDuplicateSettings(threshold=1.5))
