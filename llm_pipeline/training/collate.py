"""Rows -> batches: padded records, or packed rows whose records must not see each other.

A packed row (see `llm_pipeline.stages.tokenized.encode`) carries `position_ids` that restart at 0 where each
record begins. Given position ids and *no* attention mask, transformers builds a block-diagonal
causal mask (and flash attention reads the same boundaries from the position ids), so the
collator drops the attention mask on purpose. `check_packed_isolation` proves on the actual
model that this holds before any training step relies on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llm_pipeline.token_rows import IGNORE_INDEX


class PadCollator:
    """Pads a batch to its longest record: `input_ids` with the pad id, the mask with 0, labels with -100."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return _pad(features, {"input_ids": self.pad_token_id, "attention_mask": 0, "labels": IGNORE_INDEX})


class PackedCollator:
    """Pads packed rows to the batch's longest; passes `position_ids` and no attention mask.

    Padding gets position 0, so each pad token is a sequence of its own that no real token
    attends to, and label -100.
    """

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return _pad(features, {"input_ids": self.pad_token_id, "position_ids": 0, "labels": IGNORE_INDEX})


def _pad(features: Sequence[Mapping[str, Any]], padding: Mapping[str, int]) -> dict[str, Any]:
    import torch

    longest = max(len(feature["input_ids"]) for feature in features)
    return {
        name: torch.tensor([list(f[name]) + [pad] * (longest - len(f[name])) for f in features], dtype=torch.long)
        for name, pad in padding.items()
    }


class PackingNotIsolatedError(RuntimeError):
    """The model lets packed records attend to each other: packing would train on cross-record context."""


def check_packed_isolation(model, vocab_size: int, max_share: float = 0.1) -> float:
    """Logits of a record must not change when another record is packed before it.

    Runs the model (without gradients) on a short record three ways: alone; packed after
    another record as `PackedCollator` builds it; and joined to that record as one sequence
    (what attention across records looks like). Returns the largest logit change packing
    caused, and raises `PackingNotIsolatedError` when it exceeds `max_share` of the change the
    joined sequence caused: numerical noise (bf16 on a GPU) stays far below that share, a leak
    does not. An architecture whose attention ignores packed position ids fails here, and the
    message names the fix: tokenize with `packing: false`.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    first = torch.randint(0, vocab_size, (9,), generator=generator).tolist()
    second = torch.randint(0, vocab_size, (7,), generator=generator).tolist()
    collate = PackedCollator(pad_token_id=0)
    device = next(model.parameters()).device

    def logits_of_second(ids: list[int], positions: list[int]):
        batch = collate([{"input_ids": ids, "position_ids": positions, "labels": [0] * len(ids)}])
        output = model(input_ids=batch["input_ids"].to(device), position_ids=batch["position_ids"].to(device))
        return output.logits[0, -len(second) :].float()

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            alone = logits_of_second(second, list(range(7)))
            packed = logits_of_second(first + second, list(range(9)) + list(range(7)))
            joined = logits_of_second(first + second, list(range(16)))
    finally:
        model.train(was_training)
    difference = float((packed - alone).abs().max())
    leak = float((joined - alone).abs().max())
    if difference > max_share * leak:
        raise PackingNotIsolatedError(
            f"this model's attention lets packed records see each other (logits moved by {difference:.3g} when "
            f"another record was packed before one; {leak:.3g} when joined to it): tokenize with packing: false "
            "for this model"
        )
    return difference
