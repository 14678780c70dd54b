"""A model is finite or the run fails: a NaN or infinite loss stops training at the step it
appears, and weights are checked before a checkpoint is marked complete, before `final/` is
published and before a merge. The Trainer alone would log such a loss as 0.0 and save NaN weights."""

from __future__ import annotations

import math


class NonFiniteTrainingError(RuntimeError):
    """Training produced a NaN or infinite loss or weights. The same config fails the same way
    again, so this failure is not retried."""


def non_finite_loss_message(loss: float, step: int, learning_rate: float, max_grad_norm: float) -> str:
    clipping = f"max_grad_norm {max_grad_norm:g}" if max_grad_norm > 0 else "no gradient clipping (max_grad_norm 0)"
    return (
        f"the training loss is {loss} at step {step}: training diverged. Likely cause: the learning rate "
        f"({learning_rate:g}) is too high for this model and data; lower it, lengthen the warmup, or clip "
        f"gradients ({clipping}). Nothing of this run is published."
    )


def non_finite_parameters(model, limit: int = 5) -> list[str]:
    """The names of (at most `limit`) parameters holding a NaN or an infinity."""
    import torch

    found = []
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.numel() and not bool(torch.isfinite(parameter).all()):
                found.append(name)
                if len(found) >= limit:
                    break
    return found


def require_finite_parameters(model, what: str) -> None:
    """Raise NonFiniteTrainingError naming the parameters when `model` holds a NaN or infinity."""
    bad = non_finite_parameters(model)
    if bad:
        raise NonFiniteTrainingError(
            f"{what}: non-finite weights in {', '.join(bad)}; the model diverged (lower the learning rate)"
        )


def with_finite_loss(trainer_class: type) -> type:
    """`trainer_class` (transformers' Trainer) with every micro-batch's loss checked: training
    stops at the first NaN or infinity, before the optimizer applies it. The check costs one
    device sync per micro-batch, which the Trainer's own NaN filter pays already."""

    class FiniteLossTrainer(trainer_class):
        def training_step(self, model, inputs, num_items_in_batch=None):
            loss = super().training_step(model, inputs, num_items_in_batch)
            value = float(loss.detach().float().mean())
            if not math.isfinite(value):
                raise NonFiniteTrainingError(
                    non_finite_loss_message(
                        value, self.state.global_step + 1, self.args.learning_rate, self.args.max_grad_norm
                    )
                )
            return loss

    FiniteLossTrainer.__name__ = f"Finite{trainer_class.__name__}"
    return FiniteLossTrainer
