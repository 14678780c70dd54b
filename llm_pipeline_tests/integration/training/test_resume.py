"""Resume: only from a complete checkpoint of the same run; a killed trainer continues where it stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from llm_pipeline.storage.fingerprint import WEIGHTS_DIGEST_CACHE
from llm_pipeline.training.checkpoints import (
    COMPLETE_MARKER,
    RUN_FILE,
    last_complete_checkpoint,
    mark_complete,
    prepare_output_dir,
    run_fingerprint,
)
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import run_training
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.tiny import tiny_training_config


def fake_checkpoint(output_dir: Path, step: int, complete: bool, fingerprint: str = "run-a") -> Path:
    path = output_dir / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text("{}")
    if complete:
        mark_complete(path, step, fingerprint)
    return path


def test_a_half_written_checkpoint_is_never_resumed_from(tmp_path):
    prepare_output_dir(tmp_path, "run-a", resume=True)  # records the run
    fake_checkpoint(tmp_path, 4, complete=True)
    newest_complete = fake_checkpoint(tmp_path, 8, complete=True)
    half_written = fake_checkpoint(tmp_path, 12, complete=False)
    assert prepare_output_dir(tmp_path, "run-a", resume=True) == newest_complete
    assert not half_written.exists()  # removed, so the Trainer's rotation does not count it
    assert last_complete_checkpoint(tmp_path) == newest_complete


def test_a_checkpoint_another_run_completed_in_this_folder_is_never_resumed_from(tmp_path):
    # A trainer of run B left running wrote into the folder after run A took it over again.
    prepare_output_dir(tmp_path, "run-a", resume=True)
    own = fake_checkpoint(tmp_path, 4, complete=True)
    foreign = fake_checkpoint(tmp_path, 210, complete=True, fingerprint="run-b")
    assert prepare_output_dir(tmp_path, "run-a", resume=True) == own
    assert not foreign.exists()


def test_another_run_or_resume_off_starts_over(tmp_path):
    prepare_output_dir(tmp_path, "run-a", resume=True)
    fake_checkpoint(tmp_path, 4, complete=True)
    assert prepare_output_dir(tmp_path, "run-b", resume=True) is None
    assert not (tmp_path / "checkpoint-4").exists()
    assert json.loads((tmp_path / RUN_FILE).read_text())["fingerprint"] == "run-b"
    fake_checkpoint(tmp_path, 4, complete=True)
    assert prepare_output_dir(tmp_path, "run-b", resume=False) is None
    assert not (tmp_path / "checkpoint-4").exists()


def test_the_checkpoint_asset_retries_a_failed_training_run():
    from llm_pipeline.definitions import defs

    checkpoint = defs.get_assets_def("checkpoint")
    assert checkpoint.op.retry_policy is not None and checkpoint.op.retry_policy.max_retries >= 1


@pytest.fixture
def config(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    return tiny_training_config(
        tiny_model_dir,
        tiny_tokenized_dir,
        tmp_path / "run",
        method="full",
        learning_rate=1e-3,
        warmup_steps=1,
        max_steps=16,
        logging_steps=1,
        eval_steps=16,
        save_steps=3,
        save_total_limit=2,
    )


@pytest.mark.slow
def test_a_killed_trainer_resumes_from_its_last_complete_checkpoint(config, tmp_path):
    config_path = config.to_json(tmp_path / "config.json")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("DAGSTER_PIPES_CONTEXT", None)
    trainer = subprocess.Popen(
        [sys.executable, "-m", "llm_pipeline.training.train", "--config", str(config_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    killed_after = None
    try:
        for line in trainer.stdout:
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("event") == "progress" and event.get("step", 0) >= 7:
                trainer.send_signal(signal.SIGKILL)  # mid-run: no chance to clean up
                killed_after = event["step"]
                break
    finally:
        trainer.kill()
        trainer.wait(timeout=60)
    assert killed_after is not None, "the trainer finished or died before it could be killed"
    assert trainer.returncode == -signal.SIGKILL

    output_dir = Path(config.output_dir)
    resumable = last_complete_checkpoint(output_dir)
    assert resumable is not None
    resumed_step = int(resumable.name.split("-")[1])
    assert 6 <= resumed_step < config.max_steps and not (output_dir / "final").exists()

    reporter = MemoryReporter()
    result = run_training(config, reporter)  # the same run, launched again

    assert result.metadata["resumed_from_step"] == resumed_step
    trained_steps = [step for step, logs in reporter.progress_events if "loss" in logs]
    assert trained_steps[0] == resumed_step + 1  # continues; does not start at step 1
    assert result.metadata["global_steps"] == config.max_steps
    logged = {entry["step"] for entry in result.log_history if "loss" in entry}
    assert set(range(1, config.max_steps + 1)) <= logged  # the history before the kill came back too
    assert all((path / COMPLETE_MARKER).is_file() for path in output_dir.glob("checkpoint-*"))


def test_new_base_weights_under_the_same_name_and_size_are_a_new_run(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    model = tmp_path / "base"
    shutil.copytree(tiny_model_dir, model)
    config = tiny_training_config(model, tiny_tokenized_dir, tmp_path / "run")
    before = run_fingerprint(config)
    assert run_fingerprint(config) == before  # unchanged files: the same run (hashes read from the cache)
    assert (tmp_path / WEIGHTS_DIGEST_CACHE).is_file()

    weights = next(model.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one byte of the last tensor: same name, same size, other weights
    weights.write_bytes(bytes(data))
    assert run_fingerprint(config) != before


@pytest.mark.slow
@pytest.mark.parametrize("method", ["full", "lora"])
def test_resuming_from_any_save_point_ends_as_the_uninterrupted_run(
    method, tiny_model_dir, tiny_tokenized_dir, tmp_path
):
    # Epochs, not max_steps, and an accumulation window that does not divide an epoch (12 batches
    # of 2 rows, 5 per step: 3 steps per epoch, the last of 2 batches): the case where a resume
    # could skip or repeat batches. A checkpoint at every step, the last one included.
    settings = dict(
        method=method,
        learning_rate=1e-3,
        warmup_steps=1,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=5,
        num_train_epochs=3,
        logging_steps=1,
        eval_steps=2,
        save_steps=1,
        save_total_limit=100,
    )
    whole_dir = tmp_path / "whole"
    whole = run_training(
        tiny_training_config(tiny_model_dir, tiny_tokenized_dir, whole_dir, **settings), MemoryReporter()
    )
    expected_weights = {name: tensor.detach().clone() for name, tensor in whole.model.state_dict().items()}
    save_points = sorted(int(path.name.split("-")[1]) for path in whole_dir.glob("checkpoint-*"))
    assert save_points == list(range(1, whole.metadata["global_steps"] + 1)) and len(save_points) == 9

    for step in save_points:
        # What a kill right after save point `step` leaves: that checkpoint complete, the next one half written.
        run_dir = tmp_path / f"killed-after-{step}"
        run_dir.mkdir()
        shutil.copy(whole_dir / RUN_FILE, run_dir / RUN_FILE)
        shutil.copytree(whole_dir / f"checkpoint-{step}", run_dir / f"checkpoint-{step}")
        if step < save_points[-1]:
            half = run_dir / f"checkpoint-{step + 1}"
            shutil.copytree(whole_dir / f"checkpoint-{step + 1}", half)
            (half / COMPLETE_MARKER).unlink()
        again = run_training(
            tiny_training_config(tiny_model_dir, tiny_tokenized_dir, run_dir, **settings), MemoryReporter()
        )

        assert again.metadata["resumed_from_step"] == step
        assert again.metadata["global_steps"] == whole.metadata["global_steps"], f"resumed at {step}"
        weights = again.model.state_dict()
        assert all(torch.equal(weights[name], expected_weights[name]) for name in expected_weights), (
            f"resumed at {step}"
        )
        assert again.metadata["learning_curve"] == whole.metadata["learning_curve"], f"resumed at {step}"
        # Over the whole run, not only the steps after the resume.
        assert again.metadata["final_train_loss"] == whole.metadata["final_train_loss"]
        assert again.metadata["final_eval_loss"] == whole.metadata["final_eval_loss"]

    # Finished, then relaunched with only a bookkeeping setting changed: nothing more is trained.
    relaunched = run_training(
        tiny_training_config(tiny_model_dir, tiny_tokenized_dir, run_dir, **{**settings, "eval_steps": 3}),
        MemoryReporter(),
    )
    assert relaunched.metadata["resumed_from_step"] == relaunched.metadata["global_steps"] == save_points[-1]
    weights = relaunched.model.state_dict()
    assert all(torch.equal(weights[name], expected_weights[name]) for name in expected_weights)
