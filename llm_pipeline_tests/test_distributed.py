"""Two CPU processes over gloo through the same `accelerate launch` command the checkpoint asset runs."""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from llm_pipeline.defs.assets.checkpoint import launch_command
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.train import METADATA_KEYS
from llm_pipeline_tests.tiny import tiny_model_dir, tiny_tokenized_dir  # noqa: F401  (fixtures)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_two_processes_train_one_model_and_only_rank_zero_reports(tiny_model_dir, tiny_tokenized_dir, tmp_path):  # noqa: F811
    config = TrainingConfig(
        base_model=str(tiny_model_dir),
        tokenized_path=str(tiny_tokenized_dir),
        output_dir=str(tmp_path / "run"),
        learning_rate=1e-2,
        warmup_steps=1,
        max_steps=4,
        logging_steps=1,
        eval_steps=2,
        save_steps=2,
        num_processes=2,
    )
    config_path = config.to_json(tmp_path / "config.json")
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
    completed = subprocess.run(
        launch_command(str(config_path), config.num_processes),
        cwd=REPO_ROOT,
        env={**env, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    events = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith('{"event"')]
    finals = [event["metadata"] for event in events if event["event"] == "final"]
    assert len(finals) == 1, "exactly one process (rank 0) reports"
    metadata = finals[0]
    assert tuple(metadata) == METADATA_KEYS
    assert metadata["processes"] == 2 and metadata["global_steps"] == 4
    assert math.isfinite(metadata["final_train_loss"]) and math.isfinite(metadata["final_eval_loss"])
    losses = [event["loss"] for event in events if event["event"] == "progress" and "loss" in event]
    assert len(losses) == 4  # one logging line per step, not one per process
    assert (Path(metadata["model_path"]) / "adapter_model.safetensors").is_file()
    assert all((path / "checkpoint_complete.json").is_file() for path in Path(config.output_dir).glob("checkpoint-*"))
