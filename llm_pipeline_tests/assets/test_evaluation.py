"""evaluation: base and tuned model on the same validation tokens, and their answers side by side;
a user's eval file scored; promotion writing the evaluation into the card, and the Hub push's failures."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from llm_pipeline.defs.assets.checkpoint import CHECKPOINT_DIR_NAME
from llm_pipeline.defs.checks import tuned_model_beats_base_and_promoted
from llm_pipeline.defs.resources import DataDirResource, HubResource, hub_resource
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.stages.evaluation.promote import PROMOTION_FILE
from llm_pipeline.stages.evaluation.run import GENERATIONS_FILE, PROMOTED_DIR, REPORT_FILE, TUNED_DIR
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
    assert len(generations) == 4 and generations[-1]["prompt"] == "What do bees make?"
    # Asked as training asked: through the chat template saved with the tuned model's tokenizer.
    tokenizer = AutoTokenizer.from_pretrained(trained_data_dir / "models" / TUNED_DIR)
    asked = [{"role": "user", "content": "What do bees make?"}]
    ids = torch.tensor([tokenizer.apply_chat_template(asked, add_generation_prompt=True, return_dict=False)])
    greedy = tuned.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False)
    assert generations[-1]["tuned"] == tokenizer.decode(greedy[0, ids.shape[1] :], skip_special_tokens=True)
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


def promote(data_dir, hub: HubResource | None = None, **config) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [stage_asset("promoted_model")],
        resources={"data_dir": DataDirResource(path=str(data_dir)), "hub": hub or HubResource()},
        run_config=dg.RunConfig(ops={"promoted_model": {"config": config}}),
        raise_on_error=False,
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


EVAL_LINES = [
    '{"question": "What is the capital of France?", "expected": "Paris is the capital of France."}',
    '{"prompt": "What do bees make?"}',
    '{"input": "What pulls the tides?", "reference": "The moon and the sun pull the tides."}',
    "{not json",
]


@pytest.mark.slow
def test_an_eval_file_is_answered_by_both_models_and_scored(trained_data_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(trained_data_dir, data, symlinks=True)
    (data / "eval").mkdir()
    (data / "eval" / "qa.jsonl").write_text("\n".join(EVAL_LINES) + "\n")
    result = evaluate(data, validation_prompts=1, eval_file="eval/qa.jsonl", max_new_tokens=12)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    entries = event.materialization.metadata
    # Plain numbers, which the asset's Plots tab draws over materializations.
    for key in (
        "base_per_token_loss", "tuned_per_token_loss", "loss_delta", "improvement", "base_perplexity",
        "tuned_perplexity", "base_exact_match", "tuned_exact_match", "exact_match_delta", "base_f1", "tuned_f1",
        "f1_delta",
    ):  # fmt: skip
        assert isinstance(entries[key], dg.FloatMetadataValue), key
    metadata = {key: value.value for key, value in entries.items()}
    assert metadata["eval_file_items"] == 2 and metadata["eval_file_bad_lines"] == 2
    assert "- line 2: no answer: expected one of the keys" in metadata["eval_file_bad_line_reasons"]
    assert "- line 4: not a JSON object" in metadata["eval_file_bad_line_reasons"]
    table = metadata["eval_file_answers"].splitlines()
    assert table[0] == "| line | prompt | expected | base | tuned | base F1 | tuned F1 |"
    assert table[2].startswith("| 1 | What is the capital of France? | Paris is the capital of France. |")

    report = json.loads((data / "evaluation" / REPORT_FILE).read_text())
    scored = report["eval_file"]
    assert [answer["line"] for answer in scored["answers"]] == [1, 3]
    assert scored["bad_lines"][0] == {"line": 2, "reason": scored["bad_lines"][0]["reason"]}
    f1 = [answer["tuned_score"]["f1"] for answer in scored["answers"]]
    assert scored["tuned"]["f1"] == pytest.approx(sum(f1) / 2) == pytest.approx(metadata["tuned_f1"])
    assert scored["delta"]["f1"] == pytest.approx(metadata["tuned_f1"] - metadata["base_f1"])
    # Both models answered through the prompt template, as in training: the tuned answer is the greedy one.
    generations = [json.loads(line) for line in (data / "evaluation" / GENERATIONS_FILE).open()]
    assert len(generations) == 1  # the eval file's answers are in the report, not among the generations
    assert set(report["data_versions"]) == {"splits", "tokenized", "merged_model"}


@pytest.mark.slow
def test_an_eval_file_outside_the_data_directory_or_missing_fails_before_any_model_loads(trained_data_dir, tmp_path):
    (tmp_path / "outside.jsonl").write_text('{"prompt": "a", "answer": "b"}\n')
    for path, message in ((str(tmp_path / "outside.jsonl"), "leaves the data directory"), ("no.jsonl", "no file")):
        result = evaluate(trained_data_dir, eval_file=path)
        (failure,) = result.get_step_failure_events()
        description = failure.step_failure_data.user_failure_data.description
        assert description.startswith("evaluation.eval_file: ") and message in description


@pytest.mark.slow
def test_the_promoted_card_gains_the_evaluation_and_the_merged_card_stays(trained_data_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(trained_data_dir, data, symlinks=True)
    (data / "eval.jsonl").write_text(EVAL_LINES[0] + "\n")
    assert evaluate(data, validation_prompts=2, eval_file="eval.jsonl", max_new_tokens=6).success
    assert promote(data).success
    card = (data / "models" / PROMOTED_DIR / "README.md").read_text()
    assert card.startswith("card\n\n## Evaluation\n")  # the fixture's card, then the section
    assert "| per-token validation loss |" in card and "| exact match (eval file) |" in card
    assert "### Data versions evaluated" in card and "### Generations" in card
    assert (data / "models" / TUNED_DIR / "README.md").read_text() == "card"  # a new file, not the link written through
    again = promote(data)
    assert again.success and (data / "models" / PROMOTED_DIR / "README.md").read_text().count("## Evaluation") == 1


@pytest.mark.slow
def test_a_configured_hub_repository_without_a_token_fails_naming_hf_token(trained_data_dir, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(trained_data_dir, data, symlinks=True)
    assert evaluate(data, validation_prompts=0).success
    result = promote(data, hub_repo_id="me/tuned")
    (failure,) = result.get_step_failure_events()
    assert "set HF_TOKEN in the environment" in failure.step_failure_data.user_failure_data.description
    assert (data / "models" / PROMOTED_DIR / "config.json").is_file()  # promoted; only the push failed

    # As the definitions bind it when the project file names a repository: Dagster refuses the run
    # before any step, naming the variable.
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(dg.DagsterInvalidConfigError, match='environment variable "HF_TOKEN" which is not set'):
        promote(data, hub=hub_resource(True), hub_repo_id="me/tuned")
    unconfigured = promote(data, hub=hub_resource(False))
    assert unconfigured.success
    (event,) = unconfigured.get_asset_materialization_events()
    assert event.materialization.metadata["hub"].value == "not pushed (hub_repo_id is empty)"
