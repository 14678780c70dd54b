"""The settings of the tokenized stage."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

from llm_pipeline.setting import setting

DEFAULT_PROMPT_TEMPLATE = "### Instruction:\n{input}\n\n### Response:\n"

Overlength = Literal["truncate", "drop"]
OVERLENGTH_POLICIES: tuple[str, ...] = typing.get_args(Overlength)
Learn = Literal["assistant_turns", "last_assistant_turn", "everything"]
LEARN_OPTIONS: tuple[str, ...] = typing.get_args(Learn)


@dataclass(frozen=True)
class TokenizeSettings:
    """How records become token rows: template, masking, limits and packing."""

    max_length: int = setting(
        512,
        "Tokens per row. Packed: rows hold up to this many tokens of several records. Unpacked: longer "
        "records are truncated or dropped (see `overlength`), and counted.",
    )
    chat_template: str = setting(
        "auto",
        "How supervised and chat records are rendered (saved with the tokenizer of every checkpoint and of the "
        "merged model): `auto` (the base tokenizer's own template; else `chatml` when it has the <|im_start|> "
        "and <|im_end|> tokens; else `instruction`) | `chatml` | `instruction` (the `prompt_template` layout, "
        "assistant turns closed by EOS) | a Jinja chat template of your own (it must render and be prefix-stable).",
    )
    system_prompt: str = setting(
        "", "A system turn for every supervised and chat record that has none (written into the saved template)."
    )
    learn: Learn = setting(
        "assistant_turns",
        "Which tokens of a supervised or chat record enter the loss: `assistant_turns` (every assistant turn with "
        "its end-of-turn marker) | `last_assistant_turn` | `everything` (prompts and template too).",
    )
    train_on_source: bool = setting(False, "The same as `learn: everything` (kept for existing project files).")
    prompt_template: str = setting(
        DEFAULT_PROMPT_TEMPLATE,
        "The user turn of the `instruction` chat template; `{input}` is replaced by the prompt.",
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
        if self.learn not in LEARN_OPTIONS:
            raise ValueError(f"learn must be one of {', '.join(LEARN_OPTIONS)}; got {self.learn!r}")
        if self.train_on_source and self.learn == "last_assistant_turn":
            raise ValueError("train_on_source means learn: everything; it contradicts learn: last_assistant_turn")
        if not self.chat_template.strip():
            raise ValueError("chat_template must be auto, chatml, instruction or a Jinja template; got an empty one")

    @property
    def learned(self) -> str:
        """The `learn` option in force: `train_on_source` is `learn: everything`."""
        return "everything" if self.train_on_source else self.learn
