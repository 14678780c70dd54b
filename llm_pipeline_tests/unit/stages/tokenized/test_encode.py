"""tokenize_splits: masking, EOS, truncation, over-length policies, dropped records and the report.

These tests look at one record per row (`packing=False`); packing has its own module, test_packing.py.
"""

from __future__ import annotations

import datasets
import numpy as np
import pytest
from transformers import AutoTokenizer

from llm_pipeline.records import RECORD_FIELDS, Record
from llm_pipeline.stages.tokenized.encode import (
    REASON_PROMPT_FILLS_MAX_LENGTH,
    REASON_PROMPT_TOO_LONG,
    REASON_RECORD_TOO_LONG,
    REASON_RESPONSE_TOO_LONG,
    encoding_cache,
)
from llm_pipeline.stages.tokenized.run import tokenize_splits
from llm_pipeline.stages.tokenized.settings import DEFAULT_PROMPT_TEMPLATE, TokenizeSettings
from llm_pipeline.stages.tokenized.version import tokenization_fingerprint
from llm_pipeline.storage.stage_output import RECORD_FEATURES
from llm_pipeline.token_rows import IGNORE_INDEX, PACKED_COLUMNS, TOKENIZED_COLUMNS
from llm_pipeline_tests.support.tiny import tiny_splits

FEATURES = RECORD_FEATURES


def unpacked(**overrides) -> TokenizeSettings:
    return TokenizeSettings(**{"packing": False, **overrides})


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def make_splits(train: list[Record], validation: list[Record] | None = None) -> datasets.DatasetDict:
    def as_dataset(records):
        columns = {name: [getattr(r, name) for r in records] for name in RECORD_FIELDS}
        return datasets.Dataset.from_dict(columns, features=FEATURES)

    return datasets.DatasetDict({"train": as_dataset(train), "validation": as_dataset(validation or [])})


QA = Record.supervised("What do bees make?", "Bees make honey and wax.", "qa.jsonl:0", "jsonl")
TEXT = Record.unsupervised("The river rose overnight and flooded the fields.", "notes.txt:3", "jsonl")


def only_row(tokenized: datasets.DatasetDict, split: str = "train") -> dict:
    assert len(tokenized[split]) == 1
    return tokenized[split][0]


def test_supervised_prompt_is_masked_and_output_plus_eos_is_learned(tokenizer):
    # The instruction template keeps the layout of the prompt template: prompt, output, EOS.
    tokenized, report = tokenize_splits(
        make_splits([QA]), tokenizer, unpacked(max_length=128, chat_template="instruction")
    )
    row = only_row(tokenized)
    prompt_ids = tokenizer(DEFAULT_PROMPT_TEMPLATE.format(input=QA.input), add_special_tokens=True)["input_ids"]
    output_ids = tokenizer(QA.output, add_special_tokens=False)["input_ids"]
    n_prompt = len(prompt_ids)

    assert row["input_ids"] == prompt_ids + output_ids + [tokenizer.eos_token_id]
    assert row["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert row["labels"][n_prompt:] == row["input_ids"][n_prompt:]
    assert row["input_ids"][-1] == tokenizer.eos_token_id and row["labels"][-1] == tokenizer.eos_token_id
    assert row["attention_mask"] == [1] * len(row["input_ids"])
    assert tokenizer.decode(row["input_ids"][n_prompt:-1]) == QA.output
    assert (row["id"], row["source"]) == (QA.id, QA.source)
    assert report.splits["train"].kept == 1 and report.dropped == []


def test_train_on_source_unmasks_the_prompt(tokenizer):
    settings = unpacked(max_length=128, train_on_source=True, chat_template="instruction")
    tokenized, _ = tokenize_splits(make_splits([QA]), tokenizer, settings)
    row = only_row(tokenized)
    assert row["labels"] == row["input_ids"]
    assert row["input_ids"][-1] == tokenizer.eos_token_id


def test_unsupervised_text_is_all_labels_and_closed_by_eos(tokenizer):
    tokenized, _ = tokenize_splits(make_splits([TEXT]), tokenizer, unpacked(max_length=128))
    row = only_row(tokenized)
    assert row["input_ids"] == tokenizer(TEXT.text)["input_ids"] + [tokenizer.eos_token_id]
    assert row["labels"] == row["input_ids"]


def test_output_columns_are_exactly_the_contract(tokenizer):
    tokenized, _ = tokenize_splits(make_splits([QA, TEXT], [TEXT]), tokenizer, unpacked(max_length=128))
    packed, _ = tokenize_splits(make_splits([QA, TEXT], [TEXT]), tokenizer, TokenizeSettings(max_length=128))
    for split in ("train", "validation"):
        assert tuple(tokenized[split].column_names) == TOKENIZED_COLUMNS
        assert tuple(packed[split].column_names) == PACKED_COLUMNS


def test_long_text_is_truncated_and_counted(tokenizer):
    long_text = Record.unsupervised(" ".join(["the market sells cheese and bread"] * 20), "long.txt:0", "jsonl")
    tokenized, report = tokenize_splits(make_splits([long_text, TEXT]), tokenizer, unpacked(max_length=32))
    lengths = sorted(len(ids) for ids in tokenized["train"]["input_ids"])
    assert lengths[-1] == 32
    stats = report.splits["train"]
    assert (stats.records_in, stats.kept, stats.truncated, stats.dropped_no_target) == (2, 2, 1, 0)
    assert stats.max_tokens > 32  # lengths are counted before the cut
    assert stats.length_histogram[-1] == ("> 32", 1)


def test_long_text_is_dropped_and_quarantined_under_the_drop_policy(tokenizer):
    long_text = Record.unsupervised(" ".join(["the market sells cheese and bread"] * 20), "long.txt:0", "jsonl")
    tokenized, report = tokenize_splits(
        make_splits([long_text, TEXT]), tokenizer, unpacked(max_length=32, overlength="drop")
    )
    assert list(tokenized["train"]["id"]) == [TEXT.id]
    assert [(d.id, d.reason) for d in report.dropped] == [(long_text.id, REASON_RECORD_TOO_LONG)]
    stats = report.splits["train"]
    assert (stats.kept, stats.truncated, stats.dropped_too_long, stats.dropped_no_target) == (1, 0, 1, 0)


def test_source_max_len_keeps_the_prompt_end_and_target_max_len_the_response_start(tokenizer):
    record = Record.supervised(
        " ".join(["why is the sky blue"] * 10), " ".join(["scattering of light"] * 10), "q:1", "jsonl"
    )
    tokenized, report = tokenize_splits(
        make_splits([record]),
        tokenizer,
        unpacked(max_length=512, source_max_len=12, target_max_len=8, chat_template="instruction"),
    )
    row = only_row(tokenized)
    prompt = tokenizer(DEFAULT_PROMPT_TEMPLATE.format(input=record.input))["input_ids"]
    response = tokenizer(record.output, add_special_tokens=False)["input_ids"]
    assert row["input_ids"] == prompt[-12:] + response[:8]  # the response marker survives; no EOS after a cut
    assert row["labels"] == [IGNORE_INDEX] * 12 + response[:8]
    assert tokenizer.decode(row["input_ids"][:12]).endswith("### Response:\n")
    assert report.splits["train"].truncated == 1


@pytest.mark.parametrize(
    "limits, reason",
    # QA's prompt takes 34 tokens and its response 13; the long record's 116 and 71.
    [({"source_max_len": 40}, REASON_PROMPT_TOO_LONG), ({"target_max_len": 20}, REASON_RESPONSE_TOO_LONG)],
)
def test_source_and_target_limits_drop_under_the_drop_policy(tokenizer, limits, reason):
    record = Record.supervised(
        " ".join(["why is the sky blue"] * 10), " ".join(["scattering of light"] * 10), "q:1", "jsonl"
    )
    tokenized, report = tokenize_splits(
        make_splits([record, QA]), tokenizer, unpacked(max_length=512, overlength="drop", **limits)
    )
    assert list(tokenized["train"]["id"]) == [QA.id]
    assert [(d.source, d.reason) for d in report.dropped] == [("q:1", reason)]
    assert report.splits["train"].dropped_too_long == 1


def test_record_whose_prompt_fills_max_length_is_dropped_and_reported(tokenizer):
    long_prompt = Record.supervised(" ".join(["why is the sky blue"] * 30), "Scattering.", "qa.jsonl:7", "jsonl")
    tokenized, report = tokenize_splits(
        make_splits([long_prompt, QA], [long_prompt]), tokenizer, unpacked(max_length=64)
    )
    assert list(tokenized["train"]["id"]) == [QA.id]
    assert len(tokenized["validation"]) == 0
    assert [(d.split, d.id, d.source, d.reason) for d in report.dropped] == [
        ("train", long_prompt.id, "qa.jsonl:7", REASON_PROMPT_FILLS_MAX_LENGTH),
        ("validation", long_prompt.id, "qa.jsonl:7", REASON_PROMPT_FILLS_MAX_LENGTH),
    ]
    assert report.splits["train"].records_in == 2
    assert report.splits["train"].kept == 1
    assert report.splits["train"].dropped_no_target == 1
    assert report.splits["validation"].kept == 0 and report.splits["validation"].max_tokens == 0


def test_every_kept_record_has_a_label_the_loss_can_use(tokenizer):
    tokenized, report = tokenize_splits(tiny_splits(), tokenizer, unpacked(max_length=24))
    for split in ("train", "validation"):
        for labels in tokenized[split]["labels"]:
            assert any(label != IGNORE_INDEX for label in labels[1:])
        stats = report.splits[split]
        assert stats.records_in == stats.kept + stats.dropped_no_target


def test_length_statistics_match_the_data(tokenizer):
    tokenized, report = tokenize_splits(tiny_splits(), tokenizer, unpacked(max_length=64))
    lengths = np.array([len(ids) for ids in tokenized["train"]["input_ids"]])
    stats = report.splits["train"]
    assert (stats.min_tokens, stats.max_tokens) == (lengths.min(), lengths.max())
    assert stats.mean_tokens == pytest.approx(lengths.mean())
    assert stats.p95_tokens == pytest.approx(np.percentile(lengths, 95))
    assert report.to_dict()["splits"]["train"]["kept"] == len(lengths)
    assert stats.tokens == lengths.sum() and stats.rows == len(lengths)
    assert stats.target_tokens == sum(
        sum(1 for label in labels[1:] if label != IGNORE_INDEX) for labels in tokenized["train"]["labels"]
    )
    assert stats.pad_fraction == pytest.approx(1 - lengths.sum() / (len(lengths) * 64))


def test_multiprocess_map_gives_the_same_result(tokenizer):
    one, _ = tokenize_splits(tiny_splits(), tokenizer, unpacked(max_length=64))
    two, _ = tokenize_splits(tiny_splits(), tokenizer, unpacked(max_length=64, num_proc=2))
    assert one["train"].to_list() == two["train"].to_list()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="input"):
        TokenizeSettings(prompt_template="no placeholder")
    with pytest.raises(ValueError, match="max_length"):
        unpacked(max_length=1)


def test_padding_left_on_the_tokenizer_by_an_earlier_call_does_not_leak_in(tokenizer):
    clean, _ = tokenize_splits(make_splits([QA, TEXT]), tokenizer, unpacked(max_length=128))
    tokenizer("anything", max_length=128, padding="max_length", truncation=True)  # the seed's way
    after, _ = tokenize_splits(make_splits([QA, TEXT]), tokenizer, unpacked(max_length=128))
    assert after["train"].to_list() == clean["train"].to_list()
    assert tokenization_fingerprint(tokenizer, TokenizeSettings()) == tokenization_fingerprint(
        AutoTokenizer.from_pretrained(tokenizer.name_or_path), TokenizeSettings()
    )


@pytest.mark.parametrize("packing, num_proc", [(True, 1), (False, 1), (True, 2)])
def test_cached_encodings_give_the_same_rows_as_encoding_everything(tokenizer, tmp_path, packing, num_proc):
    settings = TokenizeSettings(packing=packing, max_length=64, overlength="drop", num_proc=num_proc)
    splits = tiny_splits()
    expected, expected_report = tokenize_splits(splits, tokenizer, settings)

    # A first run with part of the records fills the cache; the second sees them among new ones.
    first = encoding_cache(tmp_path, tokenizer, settings)
    tokenize_splits(
        datasets.DatasetDict({name: split.select(range(0, len(split), 2)) for name, split in splits.items()}),
        tokenizer,
        settings,
        first,
    )
    second = encoding_cache(tmp_path, tokenizer, settings)
    rows, report = tokenize_splits(splits, tokenizer, settings, second)
    total = sum(len(split) for split in splits.values())
    assert 0 < second.hits < total and second.hits + second.misses == total
    for name in splits:
        assert rows[name].to_list() == expected[name].to_list()
    assert report.to_dict() == expected_report.to_dict()

    # Another tokenizer setting never reads these encodings.
    assert (
        not encoding_cache(tmp_path, tokenizer, TokenizeSettings(packing=packing, max_length=32)).found([QA.id]).any()
    )
