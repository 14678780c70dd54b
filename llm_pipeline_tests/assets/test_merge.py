"""Export: a LoRA adapter merged into its base reloads without peft, computes the same and generates."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import dagster as dg
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from llm_pipeline.defs.assets.checkpoint import CHECKPOINT_DIR_NAME, RUN_CONFIG_FILE
from llm_pipeline.defs.assets.merged_model import MERGED_DIR_NAME, merged_model
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.tokenized.chat_template import CHATML_TEMPLATE
from llm_pipeline.training.merge import MODEL_CARD, export_model, model_card
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import run_training
from llm_pipeline_tests.support.tiny import tiny_training_config

IDS = torch.tensor([[5, 17, 42, 99, 7, 3, 250]])


def card(method: str = "lora") -> str:
    return model_card(
        base_model="/models/base",
        method=method,
        how="test",
        data_versions={"tokenized": "abc123"},
        training_config={"method": method, "lora_r": 8},
        summary={"final_eval_loss": 1.25, "global_steps": 3},
        diagnosis="well-fit",
    )


def test_a_merged_adapter_reloads_without_peft_and_matches_the_adapted_model(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    # Adapters initialised away from zero, so that merging them changes the weights; seeded, so
    # that the comparison below does not depend on what earlier tests drew from the generator.
    torch.manual_seed(0)
    adapted = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    ).eval()
    adapter_dir = tmp_path / "final"
    adapted.save_pretrained(adapter_dir)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(adapter_dir)

    how = export_model(adapter_dir, str(tiny_model_dir), tmp_path / "merged", card())
    assert how == "merged adapter"
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged").eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    with torch.no_grad():
        expected = adapted(input_ids=IDS).logits
        base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)(input_ids=IDS).logits
        got = merged(input_ids=IDS).logits
    assert torch.allclose(got, expected, atol=1e-4)
    assert not torch.allclose(got, base, atol=1e-3)

    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "merged")
    prompt = tokenizer("The river rose", return_tensors="pt")
    generated = merged.generate(**prompt, max_new_tokens=6, do_sample=False)
    assert generated.shape[1] == prompt["input_ids"].shape[1] + 6
    assert isinstance(tokenizer.decode(generated[0]), str)
    text = (tmp_path / "merged" / MODEL_CARD).read_text()
    assert "abc123" in text and "| final_eval_loss | 1.2500 |" in text and '"lora_r": 8' in text


def test_a_full_fine_tune_is_linked_not_copied_and_its_files_stay_untouched(tiny_model_dir, tmp_path):
    final = tmp_path / "final"
    AutoModelForCausalLM.from_pretrained(tiny_model_dir).save_pretrained(final)
    (final / MODEL_CARD).write_text("the checkpoint's own card")
    how = export_model(final, str(tiny_model_dir), tmp_path / "merged", card("full"))
    assert how == "full fine-tune"
    assert (tmp_path / "merged" / "model.safetensors").stat().st_ino == (final / "model.safetensors").stat().st_ino
    assert (final / MODEL_CARD).read_text() == "the checkpoint's own card"
    assert "**full**" in (tmp_path / "merged" / MODEL_CARD).read_text()
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    assert reloaded.num_parameters() == AutoModelForCausalLM.from_pretrained(tiny_model_dir).num_parameters()


@pytest.mark.slow
def test_merged_model_asset_exports_the_trained_adapter_with_a_model_card(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    run_dir = tmp_path / "data" / "models" / CHECKPOINT_DIR_NAME
    config = tiny_training_config(
        tiny_model_dir,
        tiny_tokenized_dir,
        run_dir,
        learning_rate=1e-2,
        max_steps=3,
        eval_steps=3,
        logging_steps=1,
    )
    config.to_json(run_dir / RUN_CONFIG_FILE)
    trained = run_training(config, MemoryReporter())
    # A later run with other settings wrote its config, then failed: the model on disk is still this one.
    dataclasses.replace(config, method="full", learning_rate=1e-3).to_json(run_dir / RUN_CONFIG_FILE)

    result = dg.materialize([merged_model], resources={"data_dir": DataDirResource(path=str(tmp_path / "data"))})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    assert metadata["export"] == "merged adapter" and metadata["method"] == "lora"
    assert metadata["final_eval_loss"] == pytest.approx(trained.metadata["final_eval_loss"])
    assert set(metadata["data_versions"]) == {"splits", "base_model", "tokenized", "checkpoint"}

    target = Path(metadata["path"])
    assert target == tmp_path / "data" / "models" / MERGED_DIR_NAME
    assert json.loads((target / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]
    model = AutoModelForCausalLM.from_pretrained(target)
    tokenizer = AutoTokenizer.from_pretrained(target)
    generated = model.generate(
        **tokenizer("What do bees make?", return_tensors="pt"), max_new_tokens=4, do_sample=False
    )
    assert generated.shape[1] > 4
    card_text = (target / MODEL_CARD).read_text()
    assert "## Data versions" in card_text
    # The tiny tokenizer has ChatML's tokens: the template is ChatML, shown with an example and the masking.
    assert "## Prompt format" in card_text and f"```jinja\n{CHATML_TEMPLATE}\n```" in card_text
    assert "<|im_start|>assistant\nHoney and wax.<|im_end|>\n" in card_text
    assert "Masking (`learn: assistant_turns`)" in card_text
    assert tokenizer.chat_template == CHATML_TEMPLATE
