"""The settings of the tokenized stage."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

from llm_pipeline.setting import setting

DEFAULT_PROMPT_TEMPLATE = "### Instruction:\n{input}\n\n### Response:\n"

Overlength = Literal["truncate", "drop"]
OVERLENGTH_POLICIES: tuple[str, ...] = typing.get_args(Overlength)


@dataclass(frozen=True)
class TokenizeSettings:
    """How records become token rows: template, masking, limits and packing."""

    max_length: int = setting(
        512,
        "Tokens per row. Packed: rows hold up to this many tokens of several records. Unpacked: longer "
        "records are truncated or dropped (see `overlength`), and counted.",
    )
    train_on_source: bool = setting(False, "Also compute the loss on the prompt of supervised records.")
    prompt_template: str = setting(
        DEFAULT_PROMPT_TEMPLATE,
        "How a supervised record's input is shown to the model; `{input}` is replaced by the prompt.",
    )
    num_proc: int = setting(1, "Worker processes for tokenization (datasets.map num_proc).")
    packing: bool = setting(
        True,
        "Pack records into rows of `max_length` tokens (texts concatenated and cut into blocks, supervised "
        "records whole); records never attend to each other. False: one record per row, padded per batch.",
    )
    source_max_len: int = setting(
        0, "Most tokens of a supervised prompt (template included); 0 = only `max_length` limits it."
    )
    target_max_len: int = setting(
        0, "Most tokens of a supervised response, EOS included; 0 = only `max_length` limits it."
    )
    overlength: Overlength = setting(
        "truncate",
        "A record over a limit: `truncate` (the prompt keeps its end, the response its beginning; counted) "
        "or `drop` (quarantined with the reason).",
    )

    def __post_init__(self) -> None:
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2 (one token and EOS), got {self.max_length}")
        if "{input}" not in self.prompt_template:
            raise ValueError(f"prompt_template must contain '{{input}}', got {self.prompt_template!r}")
        if self.num_proc < 1:
            raise ValueError(f"num_proc must be at least 1, got {self.num_proc}")
        if self.source_max_len < 0 or self.target_max_len < 0:
            raise ValueError("source_max_len and target_max_len must be >= 0 (0 = no limit)")
        if self.overlength not in OVERLENGTH_POLICIES:
            raise ValueError(f"overlength must be one of {', '.join(OVERLENGTH_POLICIES)}; got {self.overlength!r}")
