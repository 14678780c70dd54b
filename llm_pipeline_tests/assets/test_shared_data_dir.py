"""Two pipelines sharing one data directory: one writer per stage, and no export of the other's model."""

from __future__ import annotations

import json

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import CHECKPOINT_DIR_NAME, checkpoint_asset
from llm_pipeline.defs.assets.merged_model import MERGED_DIR_NAME, merged_model
from llm_pipeline.defs.launchers import SubprocessTrainingLauncher
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.train import FINAL_CONFIG_FILE, FINAL_DIR_NAME, SUMMARY_FILE
from llm_pipeline_tests.support.lock_holder import HOLDER_RUN, hold_stage_lock
from llm_pipeline_tests.support.stage_assets import stage_asset


def failure_description(result: dg.ExecuteInProcessResult) -> str:
    (failure,) = result.get_step_failure_events()
    return failure.step_failure_data.user_failure_data.description


def test_a_stage_another_pipeline_is_writing_fails_once_naming_that_writer(tmp_path):
    writer = hold_stage_lock(tmp_path, "plaintext")
    try:
        result = dg.materialize(
            [stage_asset("plaintext")],
            resources={"data_dir": DataDirResource(path=str(tmp_path), lock_wait_s=1)},
            raise_on_error=False,
        )
    finally:
        writer.kill()
        writer.wait()
    assert not result.success
    description = failure_description(result)
    assert "plaintext is being written by another writer" in description
    assert f"pid {writer.pid}" in description and f"run {HOLDER_RUN}" in description
    assert not (tmp_path / "plaintext").exists()


def test_a_checkpoint_another_pipeline_is_training_is_not_launched_a_second_time(tmp_path):
    write_model_ref(tmp_path / "models", "no-model-is-loaded", origin="test")
    writer = hold_stage_lock(tmp_path, CHECKPOINT_DIR_NAME)
    try:
        result = dg.materialize(
            [checkpoint_asset(TrainingConfig())],
            resources={
                "data_dir": DataDirResource(path=str(tmp_path), lock_wait_s=1),
                "training_launcher": SubprocessTrainingLauncher(),
            },
            raise_on_error=False,
        )
    finally:
        writer.kill()
        writer.wait()
    assert "checkpoint is being written by another writer" in failure_description(result)
    retries = [event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert not retries
    assert not (tmp_path / "models" / CHECKPOINT_DIR_NAME).exists()  # nothing launched, no config written


def test_merged_model_refuses_a_final_model_that_another_pipeline_trained(tmp_path):
    final = tmp_path / "models" / CHECKPOINT_DIR_NAME / FINAL_DIR_NAME
    final.mkdir(parents=True)
    TrainingConfig(base_model="base", tokenized_path="t", output_dir="o", method="full").to_json(
        final / FINAL_CONFIG_FILE
    )
    summary = {"run_fingerprint": "b" * 64, "learning_curve": [], "final_eval_loss": 1.0}
    (final / SUMMARY_FILE).write_text(json.dumps(summary))
    with dg.instance_for_test() as instance:
        # This pipeline recorded checkpoint run a...; then the other pipeline put its run b... in final/.
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key="checkpoint", tags={"dagster/data_version": "a" * 32})
        )
        result = dg.materialize(
            [merged_model],
            resources={"data_dir": DataDirResource(path=str(tmp_path))},
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    description = failure_description(result)
    assert f"holds run {'b' * 32}, not run {'a' * 32}" in description and "another pipeline" in description
    assert not (tmp_path / "models" / MERGED_DIR_NAME).exists()


def test_a_data_directory_pointed_at_a_users_own_folders_replaces_none_of_them(tmp_path):
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    (tmp_path / "raw" / "jsonl" / "notes.jsonl").write_text('{"text": "a note that would become a record"}\n')
    (tmp_path / "plaintext").mkdir()
    (tmp_path / "plaintext" / "novel.txt").write_text("the user's own plaintext folder")
    result = dg.materialize(
        [stage_asset("plaintext")], resources={"data_dir": DataDirResource(path=str(tmp_path))}, raise_on_error=False
    )
    assert "was not written by llm_pipeline: it is left as it is" in failure_description(result)
    assert [path.name for path in (tmp_path / "plaintext").iterdir()] == ["novel.txt"]


def _notes(data_dir, text: str) -> None:
    folder = data_dir / "raw" / "jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.jsonl").write_text(json.dumps({"text": text}) + "\n")


def test_a_step_refuses_an_input_that_another_pipeline_replaced(tmp_path):
    resources = {"data_dir": DataDirResource(path=str(tmp_path))}
    ours_text = "Our pipeline's note: water the seedlings from below so that the leaves stay dry and healthy."
    theirs_text = "The other pipeline's note: prune the roses in late winter, just before the buds begin to swell."
    with dg.instance_for_test() as ours, dg.instance_for_test() as theirs:
        _notes(tmp_path, ours_text)
        plaintext = dg.materialize([stage_asset("plaintext")], resources=resources, instance=ours)
        _notes(tmp_path, theirs_text)
        replaced = dg.materialize([stage_asset("plaintext")], resources=resources, instance=theirs)
        # Our filtered step would read the other pipeline's records as if our plaintext step wrote them.
        result = dg.materialize(
            [stage_asset("plaintext"), stage_asset("filtered")],
            selection=["filtered"],
            resources=resources,
            instance=ours,
            raise_on_error=False,
        )
        assert not result.success
        description = failure_description(result)
        assert f"plaintext in {tmp_path / 'plaintext'} was written by run {replaced.run_id}" in description
        assert f"this instance last recorded run {plaintext.run_id}" in description
        assert not (tmp_path / "filtered").exists()

        # Materialized again here, plaintext is ours once more and filtered reads it.
        dg.materialize([stage_asset("plaintext")], resources=resources, instance=ours)
        filtered = dg.materialize(
            [stage_asset("plaintext"), stage_asset("filtered")],
            selection=["filtered"],
            resources=resources,
            instance=ours,
        )
        assert filtered.success


def test_a_stage_waits_for_its_readers_and_names_them(tmp_path):
    reader = hold_stage_lock(tmp_path, "plaintext", shared=True)
    try:
        _notes(tmp_path, "A note about compost: turn the heap every week so that the middle stays warm.")
        result = dg.materialize(
            [stage_asset("plaintext")],
            resources={"data_dir": DataDirResource(path=str(tmp_path), lock_wait_s=1)},
            raise_on_error=False,
        )
    finally:
        reader.kill()
        reader.wait()
    description = failure_description(result)
    assert f"plaintext is being read by run {HOLDER_RUN}, pid {reader.pid}" in description
    assert not (tmp_path / "plaintext").exists()
