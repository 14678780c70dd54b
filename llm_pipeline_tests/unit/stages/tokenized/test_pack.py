"""Packing: the row plan, the packed rows, and proof that packed records do not see each other."""

from __future__ import annotations

import datasets
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from llm_pipeline.stages.tokenized.pack import plan_rows
from llm_pipeline.stages.tokenized.run import tokenize_splits
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.token_rows import IGNORE_INDEX, ROW_ID_SEPARATOR, record_ids_of_rows
from llm_pipeline.training.collate import (
    PackedCollator,
    PackingNotIsolatedError,
    PadCollator,
    check_packed_isolation,
)
from llm_pipeline_tests.support.tiny import tiny_splits


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def covered(rows, record: int) -> list[tuple[int, int]]:
    return [(start, end) for row in rows for index, start, end in row if index == record]


# --- the plan ------------------------------------------------------------------------------------


def test_texts_fill_whole_rows_and_records_are_packed_best_fit():
    lengths = [6, 5, 4, 3, 2]
    rows = plan_rows(lengths, [False] * 5, max_length=10)
    assert [sum(end - start for _, start, end in row) for row in rows] == [10, 10]
    assert sorted(sorted(index for index, _, _ in row) for row in rows) == [[0, 2], [1, 3, 4]]


def test_a_long_text_continues_in_the_next_row_and_nothing_is_lost():
    lengths = [25, 7, 4, 9]
    is_text = [True, True, False, False]
    rows = plan_rows(lengths, is_text, max_length=10)
    assert all(sum(end - start for _, start, end in row) <= 10 for row in rows)
    for record, length in enumerate(lengths):
        pieces = sorted(covered(rows, record))
        assert pieces[0][0] == 0 and pieces[-1][1] == length
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))  # contiguous, no overlap
    assert covered(rows, 0) == [(0, 10), (10, 20), (20, 25)]
    assert len(covered(rows, 2)) == len(covered(rows, 3)) == 1  # supervised records are never split
    # 45 tokens in rows of 10: the first three rows are full texts, two more hold the rest.
    assert len(rows) == 5


def test_a_supervised_record_longer_than_a_row_is_refused():
    with pytest.raises(ValueError, match="more than max_length"):
        plan_rows([11], [False], max_length=10)


# --- the packed rows -----------------------------------------------------------------------------


def test_packed_rows_restart_positions_and_mask_the_first_label_of_each_record(tokenizer):
    packed, report = tokenize_splits(tiny_splits(), tokenizer, TokenizeSettings(max_length=64))
    unpacked, _ = tokenize_splits(tiny_splits(), tokenizer, TokenizeSettings(max_length=64, packing=False))
    by_id = {row["id"]: row for row in unpacked["train"]}

    text_tokens: dict[str, list[int]] = {}
    for row in packed["train"]:
        assert len(row["input_ids"]) <= 64
        assert len(row["input_ids"]) == len(row["labels"]) == len(row["position_ids"]) == len(row["attention_mask"])
        starts = [i for i, position in enumerate(row["position_ids"]) if position == 0]
        assert starts[0] == 0
        assert all(row["labels"][i] == IGNORE_INDEX for i in starts)
        bounds = [*starts, len(row["input_ids"])]
        record_ids = row["id"].split(ROW_ID_SEPARATOR)
        pieces = [row["input_ids"][a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        assert len(pieces) == len(record_ids)  # consecutive pieces of one text would share an id
        for record_id, piece, (a, b) in zip(record_ids, pieces, zip(bounds, bounds[1:], strict=False), strict=False):
            original = by_id[record_id]
            if original["input_ids"] == piece:  # a whole record: its labels apart from the first
                assert row["labels"][a + 1 : b] == original["labels"][1:]
            else:
                text_tokens.setdefault(record_id, []).extend(piece)
    for record_id, tokens in text_tokens.items():  # texts cut across rows come back whole
        assert tokens == by_id[record_id]["input_ids"]

    kept_ids = record_ids_of_rows(packed["train"]["id"])
    assert sorted(kept_ids) == sorted(by_id)
    (packed_stats,) = [report.splits["train"]]
    assert packed_stats.rows < packed_stats.kept
    assert packed_stats.tokens == sum(len(row["input_ids"]) for row in unpacked["train"])
    assert packed_stats.pad_fraction < 0.25


def test_an_empty_split_packs_to_an_empty_split(tokenizer):
    splits = tiny_splits()
    splits["validation"] = splits["validation"].select([])
    packed, report = tokenize_splits(splits, tokenizer, TokenizeSettings(max_length=64))
    assert len(packed["validation"]) == 0 and "position_ids" in packed["validation"].column_names
    assert report.splits["validation"].rows == 0


# --- isolation on the model ----------------------------------------------------------------------


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_a_records_logits_and_loss_do_not_change_when_another_is_packed_before_it(tiny_model_dir, attention):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attention)
    model.config.use_cache = False  # as the trainer builds it
    model.eval()
    first = {"input_ids": [5, 17, 42, 99, 7, 3, 250, 2], "labels": [5, 17, 42, 99, 7, 3, 250, 2]}
    second = {"input_ids": [9, 81, 64, 33, 120, 2], "labels": [IGNORE_INDEX, IGNORE_INDEX, 64, 33, 120, 2]}

    def packed_row(*records):
        row = {"input_ids": [], "labels": [], "position_ids": []}
        for record in records:
            row["input_ids"] += record["input_ids"]
            row["labels"] += [IGNORE_INDEX] + record["labels"][1:]
            row["position_ids"] += list(range(len(record["input_ids"])))
        return row

    with torch.no_grad():
        alone = model(**PackedCollator(0)([packed_row(second)]))
        together = model(**PackedCollator(0)([packed_row(first, second)]))
        first_alone = model(**PackedCollator(0)([packed_row(first)]))
        # The same two records in a padded batch (the unpacked path) for the loss sum.
        padded = PadCollator(0)([{**first, "attention_mask": [1] * 8}, {**second, "attention_mask": [1] * 6}])
        logits_padded = model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits

    assert torch.allclose(together.logits[:, 8:], alone.logits, atol=1e-5)
    assert torch.allclose(together.logits[:, :8], first_alone.logits, atol=1e-5)
    assert torch.allclose(logits_padded[1, :6], alone.logits[0], atol=1e-5)
    # Mean loss over the packed row's 7 + 4 targets equals the token-weighted mean of the two alone.
    expected = (first_alone.loss * 7 + alone.loss * 4) / 11
    assert torch.allclose(together.loss, expected, atol=1e-5)


def test_the_isolation_probe_passes_on_the_training_model_and_catches_a_leaking_one(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.config.use_cache = False
    assert check_packed_isolation(model, vocab_size=model.config.vocab_size) < 1e-4
    # With the KV cache on, transformers ignores packed position ids: records attend across.
    model.config.use_cache = True
    with pytest.raises(PackingNotIsolatedError, match="packing: false"):
        check_packed_isolation(model, vocab_size=model.config.vocab_size)


def test_record_ids_of_rows_lists_each_record_once():
    rows = datasets.Dataset.from_dict({"id": [f"a{ROW_ID_SEPARATOR}b", "b", f"c{ROW_ID_SEPARATOR}d"]})
    assert record_ids_of_rows(rows["id"]) == ["a", "b", "c", "d"]
