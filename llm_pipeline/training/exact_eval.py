"""The validation loss as the exact per-token mean: the summed loss over the count of learned tokens.

transformers' evaluation loop averages each batch's mean loss weighted by its rows, so the
reported loss leans towards the tokens of short rows and moves with the eval batch size
(6.0651 at 1, 6.0806 at 11 on the quick start). Here each batch's mean is weighted back by the
tokens it is the mean of, summed over batches (and processes), and divided once: the number
the curve, the best checkpoint and the final report use no longer depends on how rows were
batched.
"""

from __future__ import annotations

import inspect

from llm_pipeline.token_rows import IGNORE_INDEX


def learned_tokens(labels) -> object:
    """The tokens a causal LM's loss is the mean of: labels after the shift, not masked."""
    return labels[..., 1:].ne(IGNORE_INDEX).sum()


def with_exact_eval_loss(trainer_class: type) -> type:
    """`trainer_class` (transformers' Trainer) reporting `<prefix>_loss` as the per-token mean."""
    import torch

    class ExactEvalLossTrainer(trainer_class):
        def evaluation_loop(self, *args, **kwargs):
            self._token_loss = torch.zeros(2, dtype=torch.float64, device=self.args.device)  # summed loss, tokens
            output = super().evaluation_loop(*args, **kwargs)
            prefix = (
                inspect.signature(super().evaluation_loop)
                .bind(*args, **kwargs)
                .arguments.get("metric_key_prefix", "eval")
            )
            summed, tokens = self.accelerator.reduce(self._token_loss, reduction="sum").tolist()
            if tokens > 0 and f"{prefix}_loss" in output.metrics:
                output.metrics[f"{prefix}_loss"] = summed / tokens
            return output

        def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
            loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
            if loss is not None and inputs.get("labels") is not None:
                tokens = learned_tokens(inputs["labels"]).to(self._token_loss.device)
                self._token_loss += torch.stack([loss.double().to(tokens.device) * tokens, tokens.double()])
            return loss, logits, labels

    ExactEvalLossTrainer.__name__ = f"ExactEvalLoss{trainer_class.__name__}"
    return ExactEvalLossTrainer
