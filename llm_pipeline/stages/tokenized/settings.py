"""The settings of the tokenized stage."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PROMPT_TEMPLATE = "### Instruction:\n{input}\n\n### Response:\n"


OVERLENGTH_POLICIES = ("truncate", "drop")


@dataclass(frozen=True)
class TokenizeSettings:
    max_length: int = 512
    """Tokens per row: a packed row holds at most this many; unpacked, a longer record is cut or dropped."""
    train_on_source: bool = False
    """Also compute the loss on the prompt tokens of supervised records."""
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    """How a supervised `input` is shown to the model; must contain `{input}`."""
    num_proc: int = 1
    """Worker processes for `datasets.map`."""
    packing: bool = True
    """Pack records into rows of `max_length` tokens; off: one record per row, padded per batch."""
    source_max_len: int = 0
    """Most tokens of a supervised prompt (template included); 0 = no limit of its own."""
    target_max_len: int = 0
    """Most tokens of a supervised response, EOS included; 0 = no limit of its own."""
    overlength: str = "truncate"
    """What happens to a record over a limit: `truncate` it (counted) or `drop` it (quarantined)."""

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
