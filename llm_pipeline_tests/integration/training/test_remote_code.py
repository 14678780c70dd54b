"""A base model that ships its own code: every loader (trainer, memory preflight, merge) passes
trust_remote_code on, and the exported model carries that code."""

from __future__ import annotations

import pytest
from transformers import AutoModelForCausalLM

from llm_pipeline.training.merge import export_model
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import run_training
from llm_pipeline_tests.support.tiny import build_custom_code_model, tiny_training_config


@pytest.mark.slow
def test_a_trusted_custom_code_model_trains_and_exports_with_its_code(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    model = build_custom_code_model(tiny_model_dir, tmp_path / "custom")
    settings = dict(method="lora", max_steps=2, eval_steps=2, logging_steps=1)
    with pytest.raises(ValueError, match="trust_remote_code"):  # not trusted: not run
        run_training(
            tiny_training_config(model, tiny_tokenized_dir, tmp_path / "untrusted", **settings), MemoryReporter()
        )

    config = tiny_training_config(model, tiny_tokenized_dir, tmp_path / "run", trust_remote_code=True, **settings)
    result = run_training(config, MemoryReporter())
    assert (
        result.metadata["global_steps"] == 2 and type(result.model.base_model.model).__name__ == "TinyCustomForCausalLM"
    )

    merged = tmp_path / "merged"
    assert export_model(result.model_path, str(model), merged, "card", trust_remote_code=True) == "merged adapter"
    assert (merged / "modeling_tiny_custom.py").is_file()
    assert (
        type(AutoModelForCausalLM.from_pretrained(merged, trust_remote_code=True)).__name__ == "TinyCustomForCausalLM"
    )
