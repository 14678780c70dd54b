"""Train / validation assignment from a hash of the normalized prompt.

A record's side depends only on its own prompt (and the salt), so adding data never moves an
old record, and records sharing a prompt (several answers to one instruction, conversations
opening with one user turn) land together: no prompt leaks from train into validation.
"""

from __future__ import annotations

import hashlib

from llm_pipeline.records import Record
from llm_pipeline.text import normalize

TRAIN, VALIDATION = "train", "validation"


def split_position(record: Record, salt: str = "") -> float:
    """A number in [0, 1) fixed by the normalized prompt; change `salt` to reshuffle."""
    digest = hashlib.sha256((salt + "\x1f" + normalize(record.prompt)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(record: Record, validation_ratio: float, salt: str = "") -> str:
    if not 0.0 < validation_ratio < 1.0:
        raise ValueError(f"validation_ratio must be between 0 and 1, got {validation_ratio}")
    return VALIDATION if split_position(record, salt) < validation_ratio else TRAIN
