"""Asset checks: the validators alone, then the checks over real stage outputs, and each of them
failing on a stage output that is wrong in the way it guards against."""

import json
import shutil

import dagster as dg
import datasets
import pytest

from llm_pipeline.definitions import defs, pipeline_assets
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.records import Record
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.stages.filtered.dedup import NearDeduplicator, NearDuplicateSettings
from llm_pipeline.storage.stage_output import RECORD_FEATURES, save_dataset
from llm_pipeline.text import shingles
from llm_pipeline.validators import id_balance, label_report, near_duplicate_prompts, records_without_targets

DATASET_STAGES = ["plaintext", "filtered", "clustered", "splits"]


def run(data_dir, selection, instance, ops: dict | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*raw_sources, *pipeline_assets, *asset_checks],
        selection=selection,
        instance=instance,
        resources={**defs.resources, "data_dir": DataDirResource(path=str(data_dir))},
        run_config=dg.RunConfig(ops=ops or {}),
        raise_on_error=False,
    )


def checks_of(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def only(*names: str) -> dg.AssetSelection:
    return dg.AssetSelection.checks(
        *[check for check in asset_checks if check.check_specs and next(iter(check.check_specs)).name in names]
    )


def prompts(*texts: str) -> list[Record]:
    return [Record.supervised(text, "an answer", f"test line {index}", "jsonl") for index, text in enumerate(texts)]


def test_near_duplicates_are_found_across_the_split_and_nothing_else():
    train = prompts(
        "How do I keep basil from bolting? (variant 1)", "What is an index fund?", "Why sand with the grain?"
    )
    validation = prompts(
        "how do I keep basil from bolting (variant 2)", "What is a mutual fund?", "How tight should a chain be?"
    )
    pairs = near_duplicate_prompts(train, validation)
    assert [(pair.validation_prompt, pair.train_prompt) for pair in pairs] == [(validation[0].prompt, train[0].prompt)]
    assert 0.8 <= pairs[0].similarity < 1.0
    assert near_duplicate_prompts(train, validation, threshold=0.99) == []
    assert near_duplicate_prompts(prompts("?!"), prompts("?!")) == []  # no shingles: left to the exact check


def test_the_leakage_check_and_the_near_duplicate_filter_call_the_same_prompts_alike():
    # Punctuation inside a word is dropped ("What's" -> "whats"), not turned into a space: to the
    # filter these two prompts are one text, so the check must not see two different prompts.
    train = prompts("What's the best way to re-pot a fern in spring?")
    validation = prompts("Whats the best way to repot a fern in spring")
    assert shingles(train[0].prompt, 5) == shingles(validation[0].prompt, 5)
    (pair,) = near_duplicate_prompts(train, validation)
    assert pair.similarity == 1.0
    deduplicator = NearDeduplicator(NearDuplicateSettings())
    assert deduplicator.original_of(Record.supervised(train[0].prompt, "Loosen the root ball.", "a", "jsonl")) is None
    assert deduplicator.original_of(Record.supervised(validation[0].prompt, "Loosen the root ball.", "b", "jsonl"))


def test_id_balance_counts_duplicates_and_names_lost_records():
    assert id_balance(["a", "a", "b"], ["a", "b"], ["a"]).balanced  # a duplicate dropped once
    lost = id_balance(["a", "a", "b", "c"], ["a", "b"], ["x"])
    assert not lost.balanced and lost.missing == ["a", "c"] and lost.unexpected == ["x"]


def test_label_report_finds_each_kind_of_fault():
    split = datasets.Dataset.from_dict(
        {
            "id": ["ok", "short_labels", "big_id", "bad_mask", "negative_label"],
            "input_ids": [[1, 2, 3], [4, 5], [1, 900], [1], [7, 8]],
            "attention_mask": [[1, 1, 1], [1, 1], [1, 1], [2], [1, 1]],
            "labels": [[-100, 2, 3], [4], [-100, 900], [1], [-100, -3]],
        }
    )
    expected = {
        "length_mismatch": ["short_labels"],
        "token_out_of_range": ["big_id"],
        "label_out_of_range": ["big_id", "negative_label"],
        "bad_attention_mask": ["bad_mask"],
    }
    assert label_report(split, vocab_size=512).faults == expected
    # Read a few rows at a time (a split of any size in flat memory): the same rows found, in order.
    for batch_rows in (1, 2, 3):
        assert label_report(split, vocab_size=512, batch_rows=batch_rows).faults == expected
    assert label_report(split.select([4, 3, 0]), vocab_size=512, batch_rows=2).faults == {
        **{kind: [] for kind in expected},
        "label_out_of_range": ["negative_label"],
        "bad_attention_mask": ["bad_mask"],
    }
    assert label_report(split.select([0]), vocab_size=512).sane


def write_jsonl(path, texts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts))


def test_records_without_targets_are_found_inside_packed_rows():
    M = -100
    packed = datasets.Dataset.from_dict(
        {
            # Row 0: record a (learns its 2nd and 3rd token), then b with every label masked.
            # Rows 1-2: text c, continued; only its piece in row 2 has a label after its first token.
            "id": ["a+b", "c", "c+d"],
            "labels": [[M, 5, 6, M, M, M], [M, M], [M, 7, M, 8]],
            "position_ids": [[0, 1, 2, 0, 1, 2], [0, 1], [0, 1, 0, 1]],
        }
    )
    assert records_without_targets(packed) == ["b"]
    unpacked = datasets.Dataset.from_dict({"id": ["x", "y"], "labels": [[M, 3], [4, M]]})
    assert records_without_targets(unpacked) == ["y"]  # y's only label sits at position 0: never predicted


def test_dataset_checks_pass_on_real_outputs_and_catch_a_mix_of_two_runs(raw_data_dir, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    ops = {
        "splits": {"config": {"validation_ratio": 0.25}},
        "base_model": {"config": {"tiny_vocab_size": 512}},
        "tokenized": {"config": {"max_length": 96}},
    }
    checks = checks_of(run(raw_data_dir, [*DATASET_STAGES, "base_model", "tokenized"], instance, ops))
    for stage in [*DATASET_STAGES, "tokenized"]:
        assert checks[f"{stage}_counts_balance"].passed, checks[f"{stage}_counts_balance"].metadata
    for name in (
        "splits_share_no_prompt",
        "filtered_dropped_share_bounded",
        "tokenized_has_targets",
        "tokenized_labels_valid",
    ):
        assert checks[name].passed, checks[name].metadata

    # A packed row lost: the records only it held are missing.
    tokenized = datasets.load_from_disk(str(raw_data_dir / "tokenized"))
    train = tokenized["train"].select(range(1, len(tokenized["train"])))
    save_dataset(
        datasets.DatasetDict({"train": train, "validation": tokenized["validation"]}), raw_data_dir / "tokenized"
    )
    lost = checks_of(run(raw_data_dir, only("tokenized_counts_balance"), instance))["tokenized_counts_balance"]
    assert not lost.passed and lost.metadata["missing_records"].value > 0

    # The same raw files plus copies of three of its lines, filtered elsewhere; that run's
    # quarantine pasted next to the first run's output, as two runs racing could leave them.
    other = tmp_path / "other"
    shutil.copytree(raw_data_dir / "raw", other / "raw")
    shutil.copy(raw_data_dir / "raw" / "jsonl" / "qa.jsonl", other / "raw" / "jsonl" / "copy.jsonl")
    run(other, DATASET_STAGES[:2], dg.DagsterInstance.ephemeral())
    shutil.rmtree(raw_data_dir / "rejected" / "filtered")
    shutil.copytree(other / "rejected" / "filtered", raw_data_dir / "rejected" / "filtered")
    mixed = checks_of(run(raw_data_dir, only("filtered_counts_balance"), instance))["filtered_counts_balance"]
    assert not mixed.passed and mixed.metadata["unexpected_records"].value > 0


def test_dropped_share_above_the_bound_blocks_the_run(tmp_path):
    questions = [f"Which vegetable should I plant in week {week} of spring?" for week in range(11)]
    answers = [f"As an AI language model, I cannot garden; try peas in week {week}." for week in range(7)]
    answers += [f"Sow radishes in week {week}: they are ready in about a month." for week in range(7, 11)]
    path = tmp_path / "raw" / "jsonl" / "garden.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        "".join(json.dumps({"input": q, "output": a}) + "\n" for q, a in zip(questions, answers, strict=False))
    )
    result = run(tmp_path, DATASET_STAGES, dg.DagsterInstance.ephemeral())
    share = checks_of(result)["filtered_dropped_share_bounded"]
    assert not share.passed and share.metadata["dropped_share"].value == pytest.approx(7 / 11, abs=0.01)
    assert not result.success  # blocking: nothing downstream of filtered ran
    assert not any(event.asset_key.path == ["clustered"] for event in result.get_asset_materialization_events())

    looser = {"filtered_filtered_dropped_share_bounded": {"config": {"max_dropped_share": 0.7}}}
    check = only("filtered_dropped_share_bounded")
    assert checks_of(run(tmp_path, check, dg.DagsterInstance.ephemeral(), looser))[
        "filtered_dropped_share_bounded"
    ].passed


def test_removed_duplicates_do_not_count_as_dropped_unless_asked(tmp_path):
    repeated = "Water the tomatoes at the base in the morning so the leaves dry before the evening."
    distinct = [
        "Bread dough rests so that the gluten relaxes and the loaf rises evenly in the oven.",
        "A router forwards packets between the devices at home and the wider internet.",
        "Cool a minor burn under running water for twenty minutes before covering it.",
    ]
    write_jsonl(tmp_path / "raw" / "jsonl" / "notes.jsonl", [repeated] * 8 + distinct)
    assert run(tmp_path, DATASET_STAGES[:2], dg.DagsterInstance.ephemeral()).success
    check = only("filtered_dropped_share_bounded")
    strict = {"filtered_filtered_dropped_share_bounded": {"config": {"count_duplicates": True}}}
    counted = checks_of(run(tmp_path, check, dg.DagsterInstance.ephemeral(), strict))["filtered_dropped_share_bounded"]
    assert not counted.passed and counted.metadata["dropped_share"].value == pytest.approx(7 / 11, abs=0.01)


def save_splits(data_dir, train: list[Record], validation: list[Record]) -> None:
    features = RECORD_FEATURES
    parts = {
        name: datasets.Dataset.from_list([r.to_dict() for r in records], features=features)
        for name, records in (("train", train), ("validation", validation))
    }
    datasets.DatasetDict(parts).save_to_disk(str(data_dir / "splits"))


def test_near_duplicate_check_names_the_leaking_pairs(tmp_path):
    train = prompts(
        "How do I keep basil from bolting? (variant 1)", "What is an index fund?", "Why sand with the grain?"
    )
    save_splits(tmp_path, train, prompts("What is a mutual fund?", "How tight should a bicycle chain be?"))
    selection = only("splits_share_no_near_duplicate", "splits_share_no_prompt")
    clean = checks_of(run(tmp_path, selection, dg.DagsterInstance.ephemeral()))
    assert clean["splits_share_no_near_duplicate"].passed and clean["splits_share_no_prompt"].passed

    shutil.rmtree(tmp_path / "splits")
    save_splits(tmp_path, train, prompts("What is a mutual fund?", "How do I keep basil from bolting? (variant 2)"))
    result = run(tmp_path, selection, dg.DagsterInstance.ephemeral())
    leak = checks_of(result)["splits_share_no_near_duplicate"]
    assert not leak.passed and leak.metadata["near_duplicate_validation_records"].value == 1
    assert leak.metadata["examples"].value[0]["train"] == "How do I keep basil from bolting? (variant 1)"
    assert result.success  # reported, not blocking (see defs/checks.py)


def test_tokenized_checks_pass_on_real_tokens_and_fail_on_ids_beyond_the_vocabulary(
    tmp_path, tiny_model_dir, tiny_tokenized_dir
):
    write_model_ref(tmp_path / "models", str(tiny_model_dir), origin="test")
    shutil.copytree(tiny_tokenized_dir, tmp_path / "tokenized")
    selection = only("tokenized_labels_valid", "tokenized_has_targets")
    good = checks_of(run(tmp_path, selection, dg.DagsterInstance.ephemeral()))
    assert good["tokenized_labels_valid"].passed and good["tokenized_has_targets"].passed

    parts = datasets.load_from_disk(str(tiny_tokenized_dir))
    vocab_size = good["tokenized_labels_valid"].metadata["vocab_size"].value
    from transformers import AutoConfig

    assert vocab_size == AutoConfig.from_pretrained(tiny_model_dir).vocab_size  # read from config.json alone
    broken = parts["train"].map(
        lambda row, index: {"labels": [vocab_size] * len(row["labels"]) if index == 0 else row["labels"]},
        with_indices=True,
    )
    shutil.rmtree(tmp_path / "tokenized")
    datasets.DatasetDict({"train": broken, "validation": parts["validation"]}).save_to_disk(str(tmp_path / "tokenized"))
    bad = checks_of(run(tmp_path, selection, dg.DagsterInstance.ephemeral()))["tokenized_labels_valid"]
    assert not bad.passed and bad.metadata["faulty_rows"].value["train"]["label_out_of_range"] == 1


@pytest.mark.parametrize("verdict, passed", [("well-fit", True), ("overfit", False), ("insufficient data", False)])
def test_checkpoint_check_warns_unless_well_fit(tmp_path, verdict, passed):
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            "checkpoint", metadata={"diagnosis": verdict, "diagnosis_reasons": dg.MetadataValue.md("- a reason")}
        )
    )
    evaluation = checks_of(run(tmp_path, only("checkpoint_is_well_fit"), instance))["checkpoint_is_well_fit"]
    assert evaluation.passed is passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert (
        evaluation.metadata["diagnosis"].value == verdict
        and evaluation.metadata["diagnosis_reasons"].value == "- a reason"
    )
