"""Two CPU processes over gloo through the same `accelerate launch` command the checkpoint asset runs."""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from llm_pipeline.defs.assets.checkpoint import launch_command
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.reporters import NullReporter
from llm_pipeline.training.train import METADATA_KEYS, run_training, training_arguments
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.tiny import tiny_training_config


def launch(config: TrainingConfig, tmp_path: Path) -> subprocess.CompletedProcess:
    config_path = config.to_json(tmp_path / "config.json")
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
    return subprocess.run(
        launch_command(str(config_path), config.num_processes),
        cwd=REPO_ROOT,
        env={**env, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def two_process_config(model_dir: Path, tokenized_dir: Path, output_dir: Path, **overrides) -> TrainingConfig:
    return tiny_training_config(
        model_dir,
        tokenized_dir,
        output_dir,
        learning_rate=1e-2,
        warmup_steps=1,
        max_steps=4,
        logging_steps=1,
        eval_steps=2,
        save_steps=2,
        num_processes=2,
        **overrides,
    )


def final_metadata(completed: subprocess.CompletedProcess) -> tuple[dict, list[dict]]:
    assert completed.returncode == 0, completed.stderr[-3000:]
    events = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith('{"event"')]
    finals = [event["metadata"] for event in events if event["event"] == "final"]
    assert len(finals) == 1, "exactly one process (rank 0) reports"
    return finals[0], events


@pytest.mark.slow
def test_two_processes_train_one_model_and_only_rank_zero_reports(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    config = two_process_config(tiny_model_dir, tiny_tokenized_dir, tmp_path / "run")
    metadata, events = final_metadata(launch(config, tmp_path))
    assert tuple(metadata) == METADATA_KEYS
    assert metadata["processes"] == 2 and metadata["parallelism"] == "ddp" and metadata["global_steps"] == 4
    assert math.isfinite(metadata["final_train_loss"]) and math.isfinite(metadata["final_eval_loss"])
    losses = [event["loss"] for event in events if event["event"] == "progress" and "loss" in event]
    assert len(losses) == 4  # one logging line per step, not one per process
    assert (Path(metadata["model_path"]) / "adapter_model.safetensors").is_file()
    assert all((path / "checkpoint_complete.json").is_file() for path in Path(config.output_dir).glob("checkpoint-*"))


def test_fsdp_config_reaches_the_trainer_as_an_fsdp2_plugin(tmp_path):
    config = TrainingConfig(
        base_model="m",
        tokenized_path="t",
        output_dir=str(tmp_path),
        method="full",
        num_processes=2,
        fsdp=True,
        gradient_checkpointing=True,
        fsdp_cpu_offload=True,
        fsdp_state_dict_type="SHARDED_STATE_DICT",
    ).validate()
    plugin = training_arguments(config, "fp32", cuda=False).fsdp_plugin_args
    assert plugin["fsdp_version"] == 2 and plugin["auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert plugin["cpu_offload"] is True and plugin["state_dict_type"] == "SHARDED_STATE_DICT"
    # FSDP's activation checkpointing replaces the model's own (which would all-gather each layer twice).
    assert plugin["activation_checkpointing"] is True and plugin["reshard_after_forward"] is True
    assert training_arguments(replace(config, fsdp=False), "fp32", cuda=False).fsdp_plugin_args is None


def test_fsdp_without_gpus_is_refused_not_silently_run_as_ddp(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    # accelerate would run CPU processes with an FSDP plugin as plain DDP: the trainer says so first.
    config = two_process_config(tiny_model_dir, tiny_tokenized_dir, tmp_path / "run", method="full", fsdp=True)
    with pytest.raises(ValueError, match="set fsdp: false"):
        run_training(config, NullReporter())


def test_fsdp_needs_several_processes_and_no_quantized_base():
    with pytest.raises(ValueError, match="num_processes to 2 or more"):
        TrainingConfig(base_model="m", tokenized_path="t", output_dir="o", fsdp=True).validate()
    with pytest.raises(ValueError, match="fsdp with method qlora"):
        TrainingConfig(
            base_model="m", tokenized_path="t", output_dir="o", fsdp=True, num_processes=2, method="qlora"
        ).validate()
