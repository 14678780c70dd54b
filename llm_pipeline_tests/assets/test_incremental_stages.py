"""After one raw file changes, the dataset job recomputes only the changed records' own work, and
every stage output is the same as the job from scratch on the same raw files."""

import shutil
from pathlib import Path

import dagster as dg
import datasets
from dagster._core.definitions.data_version import (
    DATA_VERSION_TAG,  # the tag a materialization's data version travels in
)

from llm_pipeline.definitions import pipeline_assets
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline_tests.support.dagster_resources import local_resources

STAGES = ["plaintext", "filtered", "clustered", "splits", "base_model", "tokenized"]
COMPARED = ["plaintext", "filtered", "clustered", "rejected/plaintext", "rejected/filtered"]


def run_job(data_dir: Path, model_dir: Path, ops: dict | None = None) -> dict[str, dict]:
    result = dg.materialize(
        [*raw_sources, *pipeline_assets, *asset_checks],
        selection=STAGES,
        resources=local_resources(data_dir),
        run_config=dg.RunConfig(
            ops={
                "base_model": {"config": {"model_name_or_path": str(model_dir)}},
                "splits": {"config": {"validation_ratio": 0.25}},
                **(ops or {}),
            }
        ),
    )
    assert result.success
    assert all(evaluation.passed for evaluation in result.get_asset_check_evaluations())
    return {
        event.asset_key.path[-1]: {key: value.value for key, value in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def rows(data_dir: Path, stage: str) -> list[dict]:
    return list(datasets.load_from_disk(str(data_dir / stage)))


def splits_and_tokens(data_dir: Path) -> dict[str, list[dict]]:
    return {
        f"{stage}/{split}": datasets.load_from_disk(str(data_dir / stage))[split].to_list()
        for stage in ("splits", "tokenized")
        for split in ("train", "validation")
    }


def test_one_changed_file_recomputes_only_its_records_and_matches_a_full_run(raw_data_dir, tiny_model_dir, tmp_path):
    first = run_job(raw_data_dir, tiny_model_dir, {"filtered": {"config": {"redact_pii": True}}})
    analysed = first["filtered"]["records_analysed"]
    assert first["filtered"]["analyses_from_cache"] == 0 and first["tokenized"]["encodings_from_cache"] == 0

    qa = raw_data_dir / "raw" / "jsonl" / "qa.jsonl"
    qa.write_text(
        qa.read_text()
        + '{"input": "How should I store fresh herbs?", "output": "Stand basil in a glass of water on the counter; wrap parsley in a damp towel in the fridge. Mail tips to herbs@garden.example."}\n'
    )
    second = run_job(raw_data_dir, tiny_model_dir, {"filtered": {"config": {"redact_pii": True}}})
    assert second["plaintext"]["files_parsed"] == 1
    # The file's other records were analysed before: only the new one is judged and hashed.
    assert second["filtered"]["records_analysed"] == 1
    assert second["filtered"]["analyses_from_cache"] == analysed
    assert second["filtered"]["records_redacted"] == first["filtered"]["records_redacted"] + 1
    assert second["tokenized"]["records_encoded"] == 1

    fresh = tmp_path / "fresh"
    shutil.copytree(raw_data_dir / "raw", fresh / "raw")
    full = run_job(fresh, tiny_model_dir, {"filtered": {"config": {"redact_pii": True}}})
    assert full["filtered"]["analyses_from_cache"] == 0
    for stage in COMPARED:
        assert rows(raw_data_dir, stage) == rows(fresh, stage), stage
    assert splits_and_tokens(raw_data_dir) == splits_and_tokens(fresh)
    for stage in ("filtered", "tokenized"):
        for key in ("records_in", "records_kept", "records_dropped"):
            assert second[stage][key] == full[stage][key]


def test_a_changed_filter_setting_judges_every_record_again(raw_data_dir, tiny_model_dir):
    run_job(raw_data_dir, tiny_model_dir)
    changed = run_job(raw_data_dir, tiny_model_dir, {"filtered": {"config": {"quality": {"min_words_response": 3}}}})
    metadata = changed["filtered"]
    assert metadata["analyses_from_cache"] == 0 and metadata["records_analysed"] == metadata["records_in"]
    # Only the settings in use keep their cache file: the cache does not grow with every setting tried.
    assert len(list((raw_data_dir / "cache" / "filtered").glob("*.arrow"))) == 1


def test_the_base_model_keeps_its_data_version_while_the_training_split_is_the_same(raw_data_dir):
    def base_model_version() -> str:
        result = dg.materialize(
            [*raw_sources, *pipeline_assets],
            selection=["plaintext", "filtered", "clustered", "splits", "base_model"],
            resources=local_resources(raw_data_dir),
            run_config=dg.RunConfig(ops={"splits": {"config": {"validation_ratio": 0.25}}}),
        )
        [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["base_model"]]
        return event.materialization.tags[DATA_VERSION_TAG]

    first = base_model_version()
    assert base_model_version() == first  # rebuilt from the same split: the same tiny model
    qa = raw_data_dir / "raw" / "jsonl" / "qa.jsonl"
    qa.write_text(
        qa.read_text()
        + '{"text": "Seed potatoes are planted a hand deep, with the sprouts facing up, in early spring."}\n'
    )
    assert base_model_version() != first
