"""The automation as a user runs it: a real `dagster-daemon` with the project's instance config,
its sensors on by default, launching the runs itself: everything built on the first look, then
one raw edit followed through the dataset to a retrained checkpoint, and an edit that the
filters drop followed to the tokens but not to a GPU run. Every run obeys the project file: a
local base model and `method: full`, in runs a sensor and automation started."""

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.services import running_daemon

REPO = REPO_ROOT
TIMEOUT = 420  # seconds per phase: a run on two busy cores, behind sensor ticks


PROMOTION_CHECK_STEP = "evaluation_tuned_model_beats_base_and_promoted"


def runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return [record.dagster_run for record in instance.get_run_records()]


def refused_promotion(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """A run that failed only at the promotion gate: the retrained model did not beat the promoted
    one (on a few records and 8 steps, a toss-up), which stops promoted_model as it should."""
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return bool(failures) and {event.step_key for event in failures} == {PROMOTION_CHECK_STEP}


def ended(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    return run.status == dg.DagsterRunStatus.SUCCESS or (
        run.status == dg.DagsterRunStatus.FAILURE and refused_promotion(instance, run)
    )


def wait_for(
    instance: dg.DagsterInstance, done: Callable[[list[dg.DagsterRun]], bool], what: str, log: Path
) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert "Error loading repository location" not in log.read_text(), log.read_text()[-3000:]
        current = runs(instance)
        failed = [run for run in current if run.status == dg.DagsterRunStatus.FAILURE and not ended(instance, run)]
        assert not failed, (
            f"run {failed[0].run_id} ({failed[0].job_name}) failed; daemon log:\n{log.read_text()[-3000:]}"
        )
        if done(current) and all(ended(instance, run) for run in current):
            return current
        time.sleep(2)
    pytest.fail(
        f"{what} did not happen in {TIMEOUT} s; runs: {[(run.job_name, run.status.value, run.tags) for run in runs(instance)]}\n{log.read_text()[-3000:]}"
    )


def finished(current: list[dg.DagsterRun]) -> bool:
    """Every run has ended (wait_for also requires that each succeeded or only refused a promotion)."""
    return bool(current) and all(
        run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE) for run in current
    )


def materializations(instance: dg.DagsterInstance, asset: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(asset), limit=100).records)


def latest_metadata(instance: dg.DagsterInstance, asset: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


def launched_by(current: list[dg.DagsterRun], sensor: str) -> list[dg.DagsterRun]:
    return [run for run in current if run.tags.get("dagster/sensor_name") == sensor]


@pytest.mark.slow
def test_the_daemon_builds_everything_then_follows_raw_edits(raw_data_dir, tiny_model_dir, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    project_file = tmp_path / "llm_pipeline.yaml"
    project_file.write_text(
        f"data_dir: {raw_data_dir}\n"
        f"base_model: {{model_name_or_path: {tiny_model_dir}}}\n"
        "splits: {validation_ratio: 0.25}\n"
        "tokenized: {max_length: 96}\n"
        "checkpoint: {method: full, max_steps: 8, eval_steps: 4, logging_steps: 4, learning_rate: 1.0e-3}\n"
    )
    monkeypatch.delenv("LLM_PIPELINE_DATA_DIR", raising=False)
    env = {
        "DAGSTER_HOME": str(home),
        "LLM_PIPELINE_CONFIG": str(project_file),
        "LLM_PIPELINE_SENSOR_INTERVAL": "3",
        "OMP_NUM_THREADS": "1",
    }
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the instance config reads it, here as in the daemon
    log = tmp_path / "daemon.log"
    # The instance's storage is created here, before the daemon and its code server start: three
    # processes creating one fresh SQLite schema at once can leave it with two migration heads.
    with dg.DagsterInstance.from_config(str(home)) as instance, running_daemon("llm_pipeline.definitions", env, log):
        # First look at a data directory with nothing built: one fine_tune run builds it all.
        wait_for(
            instance,
            lambda current: launched_by(current, "raw_data_sensor") and finished(current),
            "the first build",
            log,
        )
        assert [run.job_name for run in runs(instance)] == ["fine_tune"]
        assert materializations(instance, "checkpoint") == 1
        assert latest_metadata(instance, "base_model")["model"] == str(tiny_model_dir)

        # A new record: the dataset automation rebuilds the stages, then training follows.
        qa = raw_data_dir / "raw" / "jsonl" / "qa.jsonl"
        qa.write_text(
            qa.read_text()
            + '{"input": "How deep should tulip bulbs go?", "output": "Plant them about three times as deep as the bulb is tall, pointed end up, in autumn."}\n'
        )
        wait_for(
            instance,
            lambda current: launched_by(current, "training_automation") and finished(current),
            "a retrained checkpoint after the edit",
            log,
        )
        assert materializations(instance, "tokenized") == 2 and materializations(instance, "checkpoint") == 2
        training_run = launched_by(runs(instance), "training_automation")[0]
        assert training_run.tags.get("llm_pipeline/gpu") == "true"
        # The run automation started used the file: its base model, full fine-tuning, its step count.
        checkpoint = latest_metadata(instance, "checkpoint")
        assert checkpoint["base_model"] == str(tiny_model_dir) and checkpoint["method"] == "full"
        assert checkpoint["global_steps"] == 8 and checkpoint["reused"] is False
        assert "project_file_overrides" not in checkpoint

        # An edit the filters drop (an exact duplicate of a kept record): the dataset stages run
        # again, the tokens come out the same, and no GPU run starts.
        before = len(runs(instance))
        qa.write_text(
            qa.read_text()
            + '{"input": "How deep should tulip bulbs go?", "output": "Plant them about three times as deep as the bulb is tall, pointed end up, in autumn."}\n'
        )
        wait_for(
            instance,
            lambda current: len(current) > before and finished(current),
            "the dataset run after the second edit",
            log,
        )
        time.sleep(15)  # several training ticks
        current = runs(instance)
        assert len(launched_by(current, "training_automation")) == 1, [(run.job_name, run.tags) for run in current]
        assert materializations(instance, "filtered") == 3 and materializations(instance, "checkpoint") == 2
