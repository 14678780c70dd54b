"""The settings of the splits stage."""

from __future__ import annotations

from dataclasses import dataclass

from llm_pipeline.setting import setting


@dataclass(frozen=True)
class SplitSettings:
    """How records are assigned to train and validation."""

    validation_ratio: float = setting(0.1, "Share of prompts that go to validation (0 < ratio < 1).")
    salt: str = setting("", "Mixed into the split hash; change it to draw a different split.")

    def __post_init__(self) -> None:
        if not 0.0 < self.validation_ratio < 1.0:
            raise ValueError(f"validation_ratio must be between 0 and 1, got {self.validation_ratio}")
