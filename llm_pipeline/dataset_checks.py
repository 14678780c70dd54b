"""Validators behind the asset checks: plain functions over stage outputs."""

from __future__ import annotations

from collections.abc import Iterable

import datasets

from llm_pipeline.document import Record
from llm_pipeline.split import normalize_prompt

IGNORE_INDEX = -100


def shared_prompts(train: Iterable[Record], validation: Iterable[Record]) -> list[str]:
    """Normalized prompts present on both sides: any one means validation loss is optimistic."""
    train_prompts = {normalize_prompt(record.prompt) for record in train}
    return sorted({prompt for record in validation if (prompt := normalize_prompt(record.prompt)) in train_prompts})


def rows_without_targets(split: datasets.Dataset) -> list[str]:
    """Ids of tokenized rows whose labels are all masked: they would train on nothing, silently."""
    empty = []
    for batch in split.iter(batch_size=1000):
        for row_id, labels in zip(batch["id"], batch["labels"]):
            if all(label == IGNORE_INDEX for label in labels):
                empty.append(row_id)
    return empty
