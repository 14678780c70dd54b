"""evaluation: base and tuned model on the same validation tokens, and their answers side by side."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import pytest
import torch
from transformers import AutoModelForCausalLM

from llm_pipeline.defs.assets.checkpoint import CHECKPOINT_DIR_NAME
from llm_pipeline.defs.assets.promoted_model import promoted_model
from llm_pipeline.defs.checks import tuned_model_beats_base_and_promoted
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.stages.evaluation.promote import PROMOTION_FILE
from llm_pipeline.stages.evaluation.run import GENERATIONS_FILE, PROMOTED_DIR, TUNED_DIR
from llm_pipeline.storage.stage_output import save_dataset
from llm_pipeline.training.merge import export_model
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import run_training
from llm_pipeline_tests.integration.training.test_exact_eval import per_token_loss
from llm_pipeline_tests.support.stage_assets import stage_asset
from llm_pipeline_tests.support.tiny import tiny_splits, tiny_training_config


@pytest.fixture(scope="module")
def trained_data_dir(tiny_model_dir, tiny_tokenized_dir, tmp_path_factory):
    """A data directory as the pipeline leaves it after merged_model: base model reference,
    splits, tokenized rows and a merged full fine-tune of the tiny model."""
    data = tmp_path_factory.mktemp("evaluation") / "data"
    write_model_ref(data / "models", str(tiny_model_dir), origin="test")
    shutil.copytree(tiny_tokenized_dir, data / "tokenized")
    save_dataset(tiny_splits(), data / "splits")
    config = tiny_training_config(
        tiny_model_dir, tiny_tokenized_dir, data / "models" / CHECKPOINT_DIR_NAME, method="full",
        learning_rate=3e-3, warmup_steps=1, max_steps=30, eval_steps=30, logging_steps=10,
    )  # fmt: skip
    trained = run_training(config, MemoryReporter())
    export_model(trained.model_path, str(tiny_model_dir), data / "models" / TUNED_DIR, "card")
    return data


def evaluate(data_dir, **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [stage_asset("evaluation"), tuned_model_beats_base_and_promoted],
        resources={"data_dir": DataDirResource(path=str(data_dir))},
        run_config=dg.RunConfig(ops={"evaluation": {"config": config}}),
        raise_on_error=False,
    )


@pytest.mark.slow
def test_the_tuned_model_is_scored_against_its_base_on_the_same_tokens(trained_data_dir, tiny_model_dir):
    result = evaluate(trained_data_dir, prompts=["What do bees make?"], validation_prompts=3, max_new_tokens=8)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    tuned = AutoModelForCausalLM.from_pretrained(trained_data_dir / "models" / TUNED_DIR)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    # The exact per-token means, as a row-by-row computation finds them, for both models.
    assert metadata["tuned_per_token_loss"] == pytest.approx(
        per_token_loss(tuned, trained_data_dir / "tokenized"), abs=1e-5
    )
    assert metadata["base_per_token_loss"] == pytest.approx(
        per_token_loss(base, trained_data_dir / "tokenized"), abs=1e-5
    )
    assert metadata["tuned_per_token_loss"] < metadata["base_per_token_loss"]  # 30 steps on the tiny data
    assert metadata["improvement"] > 0 and metadata["tokens_scored"] > 0

    generations = [json.loads(line) for line in (trained_data_dir / "evaluation" / GENERATIONS_FILE).open()]
    assert len(generations) == 4 and generations[-1]["prompt"].endswith("What do bees make?\n\n### Response:\n")
    assert all(g["reference"] for g in generations[:3]) and not generations[-1]["reference"]
    assert any(g["base"] != g["tuned"] for g in generations)  # the training changed what the model says
    assert metadata["generations"].startswith("| prompt | reference | base | tuned |")
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["verdict"].value.endswith(": better")


@pytest.mark.slow
def test_a_tuned_model_not_better_by_the_margin_is_stopped_by_the_check(trained_data_dir):
    result = evaluate(trained_data_dir, validation_prompts=0, min_improvement=0.9)
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and "not more than 90.0% lower than the base model" in check.metadata["verdict"].value


def promote(data_dir) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [promoted_model], resources={"data_dir": DataDirResource(path=str(data_dir))}, raise_on_error=False
    )


@pytest.mark.slow
def test_a_better_model_is_promoted_and_the_next_must_beat_it(trained_data_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(trained_data_dir, data, symlinks=True)
    assert evaluate(data, validation_prompts=0).success
    promoted = promote(data)
    assert promoted.success
    target = data / "models" / PROMOTED_DIR
    report = json.loads((target / PROMOTION_FILE).read_text())
    assert (target / "model.safetensors").stat().st_ino == (
        data / "models" / TUNED_DIR / "model.safetensors"
    ).stat().st_ino
    assert report["promoted_loss"] is None and AutoModelForCausalLM.from_pretrained(target).num_parameters() > 0

    # Evaluated again, unchanged: it is the promoted model, there is nothing to beat but the base.
    again = evaluate(data, validation_prompts=0)
    (check,) = again.get_asset_check_evaluations()
    assert check.passed and "the merged model is the one promoted" in check.metadata["verdict"].value

    # A later model a little worse than the promoted one (its weights jittered), still better than
    # the base: it meets the promoted model on the same tokens and goes no further.
    merged = data / "models" / TUNED_DIR
    worse = AutoModelForCausalLM.from_pretrained(merged)
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in worse.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.02)
    (merged / "model.safetensors").unlink()  # the promoted folder shares that file
    worse.save_pretrained(merged)
    later = evaluate(data, validation_prompts=0)
    (check,) = later.get_asset_check_evaluations()
    verdict = check.metadata["verdict"].value
    assert not check.passed and verdict.endswith("not more than 0.0% lower than the promoted model"), verdict
    assert check.metadata["promoted_per_token_loss"].value < check.metadata["tuned_per_token_loss"].value


@pytest.mark.slow
def test_a_merged_model_that_changed_since_its_evaluation_is_not_promoted(trained_data_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(trained_data_dir, data, symlinks=True)
    assert evaluate(data, validation_prompts=0).success
    weights = data / "models" / TUNED_DIR / "model.safetensors"
    content = bytearray(weights.read_bytes())
    content[-1] ^= 0xFF
    weights.unlink()  # a later run's weights, not an edit of the file the checkpoint shares
    weights.write_bytes(bytes(content))
    result = promote(data)
    assert not result.success and not (data / "models" / PROMOTED_DIR).exists()
    (failure,) = result.get_step_failure_events()
    assert "changed since it was evaluated" in failure.step_failure_data.user_failure_data.description
