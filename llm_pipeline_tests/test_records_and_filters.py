"""Pure-module tests: record ids, column mapping, filters, dedup, split, clustering."""

import pytest

from llm_pipeline.cluster import ClusterSettings, auto_cluster_count, cluster_texts
from llm_pipeline.column_mapping import ColumnMapping, infer_mapping
from llm_pipeline.document import Record
from llm_pipeline.filters import NARROW_PHRASES, FilterReport, FilterSettings, apply_filters, phrase_filter
from llm_pipeline.split import TRAIN, VALIDATION, assign_split, split_position


def qa(prompt: str, answer: str, source: str = "test") -> Record:
    return Record.supervised(prompt, answer, source, "jsonl")


def test_record_id_depends_on_content_only():
    assert qa("a", "b", "one.jsonl").id == qa("a", "b", "two.csv").id
    assert qa("ab", "c").id != qa("a", "bc").id


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


def test_every_phrase_is_separate_and_matches_itself():
    # A missing comma between two string literals silently joins them into one phrase.
    assert len(NARROW_PHRASES) == len(set(NARROW_PHRASES))
    for phrase in NARROW_PHRASES:
        assert phrase == phrase.strip().lower() and len(phrase) < 40, phrase
        check = phrase_filter([phrase])
        assert check(qa("prompt", f"Well, {phrase.upper()} here.")) is not None, phrase


def test_phrase_filter_reads_the_response_not_the_prompt():
    check = phrase_filter(NARROW_PHRASES)
    assert check(qa("Are you trained by OpenAI, as an AI language model?", "I am a small model trained on this data.")) is None
    assert check(qa("Tell me a joke", "As an  AI\nlanguage model, I cannot joke.")) == "synthetic_phrase: as an ai language model"


def test_apply_filters_counts_every_reason_and_keeps_first_duplicate():
    records = [
        qa("What is rust?", "Iron oxide that forms on steel when it meets water and air."),
        qa("what is  RUST?", "Iron oxide that forms on steel when it meets water and air."),
        qa("Hi", "ok"),
        qa("Opinion?", "As an AI language model, I do not have personal opinions at all."),
    ]
    report = FilterReport()
    decisions = list(apply_filters(records, FilterSettings(min_chars=10), report))
    assert [decision.reason for decision in decisions] == [
        None,
        "exact_duplicate",
        "too_short",
        "synthetic_phrase: as an ai language model",
    ]
    assert decisions[1].detail.startswith(f"duplicate of {records[0].id}")
    assert report.kept == 1 and report.total == 4
    assert report.dropped == {"exact_duplicate": 1, "too_short": 1, "synthetic_phrase": 1}


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


def test_clusters_separate_topics_deterministically():
    cooking = [f"simmer the onion and garlic in butter, then add tomato sauce {i}" for i in range(10)]
    network = [f"the router assigns an ip address over dhcp to each laptop {i}" for i in range(10)]
    labels, summaries = cluster_texts(cooking + network, ClusterSettings(num_clusters=2, seed=0))
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1 and labels[0] != labels[10]
    assert sorted(summary.size for summary in summaries) == [10, 10]
    assert any("router" in summary.top_terms or "dhcp" in summary.top_terms for summary in summaries)
    again, _ = cluster_texts(cooking + network, ClusterSettings(num_clusters=2, seed=0))
    assert (again == labels).all()
    assert auto_cluster_count(1) == 1 and auto_cluster_count(200) == 10 and auto_cluster_count(10**6) == 20
