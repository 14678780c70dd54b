"""Training on a tiny locally built Llama: config, LoRA / full / QLoRA, reporting, the launched entry point."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import torch

from llm_pipeline.setting import help_of
from llm_pipeline.training.collate import PadCollator
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.reporters import MemoryReporter, NullReporter, PrintReporter, default_reporter
from llm_pipeline.training.train import METADATA_KEYS, run_training
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.tiny import tiny_training_config


@pytest.fixture
def config(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    return tiny_training_config(
        tiny_model_dir,
        tiny_tokenized_dir,
        tmp_path / "run",
        learning_rate=1e-2,
        warmup_steps=1,
        max_steps=8,
        logging_steps=2,
        eval_steps=4,
        save_steps=1000,
    )


def base_state(model_dir) -> dict[str, torch.Tensor]:
    from transformers import AutoModelForCausalLM

    return {name: t.clone() for name, t in AutoModelForCausalLM.from_pretrained(model_dir).state_dict().items()}


def lora_state(model) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone().float() for name, p in model.named_parameters() if "lora_" in name}


def fresh_model(config: TrainingConfig):
    """The model exactly as run_training initialises it (same seed, same builder)."""
    from transformers import set_seed

    from llm_pipeline.training.model import build_model

    set_seed(config.seed)
    return build_model(config)


def assert_finite_curve(result):
    train = [p.train_loss for p in result.curve if p.train_loss is not None]
    evals = [p.eval_loss for p in result.curve if p.eval_loss is not None]
    assert len(train) >= 3 and len(evals) >= 2
    assert all(math.isfinite(loss) for loss in train + evals)


# --- config ------------------------------------------------------------------------------------


def test_config_round_trips_through_json(config, tmp_path):
    config.lora_target_modules = ["q_proj", "k_proj", "v_proj"]
    path = config.to_json(tmp_path / "config.json")
    assert TrainingConfig.from_json(path) == config
    assert json.loads(path.read_text())["method"] == "lora"


def test_config_defaults_and_help():
    defaults = TrainingConfig()
    assert (defaults.method, defaults.learning_rate, defaults.lr_scheduler_type, defaults.lora_target_modules) == (
        "lora",
        2e-4,
        "cosine",
        ["q_proj", "v_proj"],
    )
    assert all(help_of(field) for field in dataclasses.fields(TrainingConfig))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"method": "prefix"}, "method must be one of"),
        ({"lr_scheduler_type": "step"}, "lr_scheduler_type"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"per_device_train_batch_size": 0}, "per_device_train_batch_size"),
        ({"max_steps": 0}, "max_steps"),
        ({"lora_dropout": 1.5}, "lora_dropout"),
        ({"warmup_steps": -2}, "warmup_steps"),
        ({"base_model": ""}, "base_model must be set"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(config, change, message):
    for name, value in change.items():
        setattr(config, name, value)
    with pytest.raises(ValueError, match=message):
        config.validate()


def test_unknown_config_field_is_refused():
    with pytest.raises(ValueError, match="unknown TrainingConfig field"):
        TrainingConfig.from_dict({"method": "lora", "learnig_rate": 1e-4})


def test_unknown_lora_target_module_is_a_clear_error(config):
    from llm_pipeline.training.model import build_model

    config.lora_target_modules = ["query_key_value"]
    with pytest.raises(ValueError, match="match no layer"):
        build_model(config)


# --- collator and reporters --------------------------------------------------------------------


def test_collator_pads_ids_mask_and_labels():
    batch = PadCollator(pad_token_id=0)(
        [
            {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [-100, 6, 7]},
            {"input_ids": [8], "attention_mask": [1], "labels": [8]},
        ]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]


def test_only_the_main_process_reports(monkeypatch):
    monkeypatch.delenv("DAGSTER_PIPES_CONTEXT", raising=False)
    monkeypatch.setenv("RANK", "1")
    assert isinstance(default_reporter(), NullReporter)
    monkeypatch.setenv("RANK", "0")
    assert isinstance(default_reporter(), PrintReporter)


# --- training ----------------------------------------------------------------------------------


def test_lora_trains_the_adapters_and_leaves_the_base_alone(config, tiny_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    initial_lora = lora_state(fresh_model(config))
    reporter = MemoryReporter()
    result = run_training(config, reporter)

    assert_finite_curve(result)
    assert any("loss" in logs for _, logs in reporter.progress_events)
    assert reporter.final_metadata is not None and tuple(reporter.final_metadata) == METADATA_KEYS
    metadata = reporter.final_metadata
    assert metadata["method"] == "lora" and metadata["global_steps"] == 8
    assert 0 < metadata["trainable_params"] < metadata["total_params"]
    assert metadata["peak_memory_mb"] > 0 and metadata["device"] == "cpu"
    assert metadata["final_eval_loss"] == result.curve[-1].eval_loss  # the saved model was evaluated
    rates = [point.learning_rate for point in result.curve if point.train_loss is not None]
    assert all(rate is not None and rate > 0 for rate in rates) and rates[-1] < max(rates)  # the schedule, plotted
    # One optimizer step: rows of all accumulated batches, and their tokens on average (no padding).
    rows = config.per_device_train_batch_size * config.gradient_accumulation_steps
    train = datasets.load_from_disk(config.tokenized_path)["train"]
    mean_tokens = sum(len(ids) for ids in train["input_ids"]) / len(train)
    assert metadata["effective_batch_rows"] == rows
    assert metadata["effective_batch_tokens"] == round(rows * mean_tokens)

    trained_lora = lora_state(result.model)
    assert trained_lora.keys() == initial_lora.keys() and trained_lora
    for name, tensor in trained_lora.items():
        assert not torch.equal(tensor, initial_lora[name]), f"{name} did not change"

    original = base_state(tiny_model_dir)
    trained_base = {
        name.replace(".base_layer", ""): t
        for name, t in result.model.get_base_model().state_dict().items()
        if "lora_" not in name
    }
    assert trained_base.keys() == original.keys()
    for name, tensor in original.items():
        assert torch.equal(trained_base[name], tensor), f"base weight {name} changed"

    # what was saved is the adapter, and it reloads to the trained weights
    final = Path(metadata["model_path"])
    assert (final / "adapter_config.json").is_file() and (final / "tokenizer.json").is_file()
    assert not (final / "model.safetensors").exists()
    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), final)
    for name, tensor in lora_state(reloaded).items():
        assert torch.allclose(tensor, trained_lora[name])


def test_full_fine_tune_changes_the_base_weights(config, tiny_model_dir):
    config.method = "full"
    config.learning_rate = 1e-3
    stream = io.StringIO()
    result = run_training(config, PrintReporter(stream))

    assert_finite_curve(result)
    original = base_state(tiny_model_dir)
    trained = result.model.state_dict()
    changed = [name for name, tensor in original.items() if not torch.equal(trained[name], tensor)]
    assert changed == list(original), f"unchanged: {sorted(set(original) - set(changed))}"

    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {e["event"] for e in events} == {"progress", "final"}
    final = events[-1]["metadata"]
    assert tuple(final) == METADATA_KEYS
    assert final["trainable_params"] == final["total_params"]
    assert (Path(final["model_path"]) / "model.safetensors").is_file()


def test_qlora_gradients_survive_an_evaluation(config):
    """bitsandbytes 0.50 on AVX512-BF16 CPUs used to freeze training after the first eval pass."""
    config.method = "qlora"
    model = fresh_model(config)
    ids = torch.randint(4, 200, (2, 12))

    def adapter_grad_norm() -> float:
        model.train()
        model.zero_grad()
        model(input_ids=ids, labels=ids).loss.backward()
        return sum(
            float(p.grad.abs().sum()) for n, p in model.named_parameters() if "lora_" in n and p.grad is not None
        )

    assert adapter_grad_norm() > 0
    model.eval()
    with torch.no_grad():
        model(input_ids=ids, labels=ids)
    assert adapter_grad_norm() > 0


def test_qlora_trains_adapters_on_a_4bit_base_on_cpu(config):
    config.method = "qlora"
    config.max_steps = 6
    config.eval_steps = 2
    model = fresh_model(config)
    assert getattr(model.get_base_model(), "is_loaded_in_4bit", False)
    initial_lora = lora_state(model)

    result = run_training(config, MemoryReporter())
    assert_finite_curve(result)
    for name, tensor in lora_state(result.model).items():
        assert not torch.equal(tensor, initial_lora[name]), f"{name} did not change"
    evals = [p.eval_loss for p in result.curve if p.eval_loss is not None]
    assert len(set(evals)) == len(evals), f"validation loss stuck at {evals}"
    assert result.metadata["method"] == "qlora"
    assert result.metadata["trainable_params"] < result.metadata["total_params"]


# --- the launched entry point --------------------------------------------------------------------


@pytest.mark.slow
def test_launched_trainer_reports_through_dagster_pipes(config, tmp_path):
    """`python -m llm_pipeline.training.train` as Dagster's PipesSubprocessClient starts it."""
    from dagster_pipes import DAGSTER_PIPES_CONTEXT_ENV_VAR, DAGSTER_PIPES_MESSAGES_ENV_VAR, encode_param

    config_path = config.to_json(tmp_path / "config.json")
    messages = tmp_path / "messages.jsonl"
    context = {
        "asset_keys": ["checkpoint"],
        "code_version_by_asset_key": None,
        "provenance_by_asset_key": None,
        "partition_key": None,
        "partition_key_range": None,
        "partition_time_window": None,
        "run_id": "test-run",
        "job_name": None,
        "retry_number": 0,
        "extras": {},
    }
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        DAGSTER_PIPES_CONTEXT_ENV_VAR: encode_param({"data": context}),
        DAGSTER_PIPES_MESSAGES_ENV_VAR: encode_param({"path": str(messages)}),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "llm_pipeline.training.train", "--config", str(config_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    sent = [json.loads(line) for line in messages.read_text().splitlines()]
    methods = [m["method"] for m in sent]
    assert methods[0] == "opened" and methods[-1] == "closed"
    assert "log" in methods
    (materialization,) = [m["params"] for m in sent if m["method"] == "report_asset_materialization"]
    assert materialization["asset_key"] == "checkpoint"
    metadata = materialization["metadata"]
    assert tuple(metadata) == METADATA_KEYS
    assert metadata["learning_curve"]["type"] == "json"
    curve = metadata["learning_curve"]["raw_value"]
    assert {tuple(point) for point in curve} == {("step", "train_loss", "eval_loss", "learning_rate")}
    assert metadata["model_path"]["type"] == "path"
    assert metadata["global_steps"]["raw_value"] == 8
    assert math.isfinite(metadata["final_eval_loss"]["raw_value"])
    final = Path(config.output_dir) / "final"
    assert (final / "adapter_model.safetensors").is_file() and (final / "tokenizer.json").is_file()
    assert metadata["model_path"]["raw_value"] == str(final.resolve())


# --- hyperparameters ---------------------------------------------------------------------------


def test_precision_is_chosen_from_the_hardware_and_fp16_needs_a_gpu():
    from llm_pipeline.training.model import resolve_precision

    if torch.cuda.is_available():
        assert resolve_precision("auto") in ("bf16", "fp16")
    else:
        assert resolve_precision("auto") == "fp32"
        with pytest.raises(ValueError, match="fp16 needs a CUDA GPU"):
            resolve_precision("fp16")
    assert resolve_precision("bf16") == "bf16"


def test_adapter_placement_all_linear_layers_and_modules_to_save(config):
    def trained(model) -> set[str]:
        return {name for name, p in model.named_parameters() if p.requires_grad}

    config.lora_target_modules = ["all-linear"]
    every_linear = trained(fresh_model(config))
    for projection in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
        assert any(f"{projection}.lora_A" in name for name in every_linear), projection
    assert not any("lm_head.lora" in name for name in every_linear)

    config.lora_target_modules = ["q_proj"]
    config.lora_layers_to_transform = [1]
    config.lora_modules_to_save = ["lm_head"]
    chosen = trained(fresh_model(config))
    assert {name.split(".layers.")[1].split(".")[0] for name in chosen if "lora_" in name} == {"1"}
    assert any("lm_head.modules_to_save" in name for name in chosen)

    config.lora_modules_to_save = ["no_such_head"]
    with pytest.raises(ValueError, match="no_such_head"):
        fresh_model(config)


def test_8bit_paged_adamw_early_stopping_best_checkpoint_and_tensorboard(config):
    config.optim = "paged_adamw_8bit"
    config.data_seed = 7
    config.max_steps = 8
    config.eval_steps = 2
    config.save_steps = 2
    config.learning_rate = 0.5  # diverges on purpose, so validation stops improving early
    config.early_stopping_patience = 1
    config.load_best_model_at_end = True
    config.tensorboard = True
    result = run_training(config, MemoryReporter())

    evals = [(p.step, p.eval_loss) for p in result.curve if p.eval_loss is not None]
    best_step = min(evals, key=lambda point: point[1])[0]
    assert result.metadata["global_steps"] < 8, "early stopping did not stop the run"
    assert result.metadata["best_checkpoint"].endswith(f"checkpoint-{best_step}")
    assert result.metadata["final_eval_loss"] == pytest.approx(min(loss for _, loss in evals), rel=1e-4)
    assert list((Path(config.output_dir) / "tensorboard").glob("events.out.tfevents.*"))


def test_bad_hyperparameters_are_refused(config):
    for change, message in [
        ({"optim": "adam_2000"}, "optim must be one of"),
        ({"precision": "int4"}, "precision must be one of"),
        ({"lora_target_modules": ["all-linear", "q_proj"]}, "stands alone"),
        ({"load_best_model_at_end": True, "save_steps": 3, "eval_steps": 2}, "multiple of eval_steps"),
        ({"num_processes": 0}, "num_processes"),
    ]:
        candidate = TrainingConfig(**{**config.to_dict(), **change})
        with pytest.raises(ValueError, match=message):
            candidate.validate()
