"""The settings of the evaluation stage: what base and tuned model are compared on."""

from __future__ import annotations

from dataclasses import dataclass

from llm_pipeline.setting import setting


@dataclass(frozen=True)
class EvaluationSettings:
    """Base and tuned model on the same validation tokens, and their answers to the same prompts."""

    prompts: tuple[str, ...] = setting(
        (),
        "Prompts to answer besides the validation ones, written as a user would; supervised prompts go "
        "through the tokenized stage's prompt template, as in training.",
    )
    eval_file: str = setting(
        "",
        'Your own test set: a JSON Lines file, relative to the data directory, of {"prompt": ..., "answer": ...} '
        "(or question/input and expected/reference/output); base and tuned model answer each prompt greedily, "
        "scored by exact match and token F1. Empty: none.",
    )
    validation_prompts: int = setting(3, "How many validation records also get their answers generated.")
    max_new_tokens: int = setting(32, "Tokens generated per answer (greedy decoding).")
    batch_size: int = setting(8, "Validation rows per forward pass when the loss is computed.")
    max_rows: int = setting(0, "Validation rows the loss is computed on; 0: all of them.")
    min_improvement: float = setting(
        0.0,
        "The check tuned_model_beats_base_and_promoted passes when the tuned per-token loss is below the base one by more "
        "than this share of it (0.01: 1% lower).",
    )

    def __post_init__(self) -> None:
        for name in ("validation_prompts", "max_rows"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        for name in ("max_new_tokens", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.min_improvement < 1.0:
            raise ValueError(f"min_improvement must be in [0, 1), got {self.min_improvement}")
