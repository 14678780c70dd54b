"""The settings of promoted_model: where the promoted model goes besides models/promoted/."""

from __future__ import annotations

from dataclasses import dataclass

from llm_pipeline.setting import setting


@dataclass(frozen=True)
class PromotionSettings:
    """The promoted model, and optionally its push to a Hugging Face Hub repository."""

    hub_repo_id: str = setting(
        "",
        "A Hugging Face Hub model repository (`name`, `user/name` or `org/name`) that every promoted model is "
        "pushed to with its card, created when missing; the token is HF_TOKEN in the environment of the Dagster "
        "processes. Empty: nothing is pushed.",
    )
    hub_private: bool = setting(
        True, "Create the Hub repository private (a repository that exists keeps its visibility)."
    )

    def __post_init__(self) -> None:
        if self.hub_repo_id:
            from huggingface_hub.utils import validate_repo_id

            validate_repo_id(self.hub_repo_id)  # HFValidationError, a ValueError, saying what is wrong
