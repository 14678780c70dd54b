"""The reported validation loss is the exact per-token mean, whatever the eval batch size."""

from __future__ import annotations

import datasets
import pytest
import torch

from llm_pipeline.training.exact_eval import learned_tokens
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import run_training
from llm_pipeline_tests.support.tiny import tiny_training_config


def per_token_loss(model, tokenized_dir) -> float:
    """Summed loss over the learned tokens of every validation row, one row at a time."""
    summed = tokens = 0.0
    model.eval()
    with torch.no_grad():
        for row in datasets.load_from_disk(str(tokenized_dir))["validation"]:
            labels = torch.tensor([row["labels"]])
            inputs = {"input_ids": torch.tensor([row["input_ids"]]), "labels": labels}
            if "position_ids" in row:
                inputs["position_ids"] = torch.tensor([row["position_ids"]])
            count = int(learned_tokens(labels))
            summed += float(model(**inputs).loss) * count
            tokens += count
    return summed / tokens


@pytest.mark.slow
def test_the_validation_loss_is_the_per_token_mean_for_any_eval_batch_size(
    tiny_model_dir, tiny_tokenized_dir, tmp_path
):
    losses = {}
    for batch_size in (1, 5):
        config = tiny_training_config(
            tiny_model_dir, tiny_tokenized_dir, tmp_path / f"eval-{batch_size}", method="full", learning_rate=1e-3,
            max_steps=2, eval_steps=2, logging_steps=1, per_device_eval_batch_size=batch_size,
        )  # fmt: skip
        result = run_training(config, MemoryReporter())
        losses[batch_size] = result.metadata["final_eval_loss"]
        assert result.metadata["learning_curve"][-1]["eval_loss"] == pytest.approx(losses[batch_size], abs=1e-6)
    assert losses[1] == pytest.approx(losses[5], abs=1e-5)  # was 6.0651 at 1 and 6.0806 at 11 on the quick start
    assert losses[5] == pytest.approx(per_token_loss(result.model, tiny_tokenized_dir), abs=1e-5)
