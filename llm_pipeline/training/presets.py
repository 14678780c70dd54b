"""Training defaults that depend on the base model: what a project file leaves out of `checkpoint`.

The tiny model built locally has random weights: LoRA adapters on it have nothing to adapt and
its loss stays flat, so the whole model is trained, at a learning rate a 64-wide model takes.
A real pretrained model keeps the code defaults of `TrainingConfig` (LoRA, lr 2e-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TINY_MODEL_TRAINING: Mapping[str, Any] = {
    "method": "full",
    "learning_rate": 3e-3,
    "num_train_epochs": 5,
    "eval_steps": 20,
    "logging_steps": 10,
}


def training_defaults(base_model: str) -> Mapping[str, Any]:
    """The `checkpoint` values used unless a project file sets them: `base_model` empty means the tiny model."""
    return TINY_MODEL_TRAINING if not base_model else {}
