"""Clustered records -> `train` and `validation`, saved as a dataset and as JSONL: the stage's work."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets

from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION, assign_split
from llm_pipeline.stages.splits.settings import SplitSettings
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import iter_records, load_records

STAGE = "splits"
UPSTREAM = "clustered"
JSONL_NAMES = {TRAIN: "train.jsonl", VALIDATION: "val.jsonl"}
"""The JSONL export of each side, beside the dataset, for other fine-tuning tools."""


class EmptySplitError(ValueError):
    """One side of the split would hold no record: training or evaluation could not run."""


@dataclass
class SplitsResult:
    """What a run wrote: the asset's metadata."""

    output: Path
    splits: datasets.DatasetDict  # `train` and `validation`, as saved
    jsonl: dict[str, Path]  # side -> its JSONL export

    @property
    def records(self) -> int:
        return sum(len(split) for split in self.splits.values())


def run(
    layout: DataLayout, settings: SplitSettings | None = None, log: Callable[[str], None] = lambda message: None
) -> SplitsResult:
    """Assign every record of `layout.stage("clustered")` to a side by the hash of its normalized
    prompt and save both sides, with their JSONL exports, to `layout.stage("splits")`.

    Raises `EmptySplitError` (nothing is written) when either side would be empty.
    """
    settings = settings or SplitSettings()
    source = load_records(layout.stage(UPSTREAM))
    sides: dict[str, list[int]] = {TRAIN: [], VALIDATION: []}
    for index, record in enumerate(iter_records(source)):
        sides[assign_split(record, settings.validation_ratio, settings.salt)].append(index)
    for side, indices in sides.items():
        if not indices:
            raise EmptySplitError(
                f"the {side} split is empty ({len(source)} records in all): add data or change validation_ratio "
                f"(now {settings.validation_ratio})"
            )
    # Fresh fingerprints: datasets would otherwise hash the index lists to name a cache we never reuse.
    result = datasets.DatasetDict(
        {side: source.select(indices, new_fingerprint=uuid.uuid4().hex) for side, indices in sides.items()}
    )
    target = layout.stage(STAGE)
    with atomic_dir(target) as staging:
        result.save_to_disk(str(staging))
        for side, name in JSONL_NAMES.items():
            write_jsonl(result[side], staging / name)
    log(f"train {len(sides[TRAIN])}, validation {len(sides[VALIDATION])}")
    return SplitsResult(target, result, {side: target / name for side, name in JSONL_NAMES.items()})


def write_jsonl(dataset: datasets.Dataset, path: Path) -> None:
    """One JSON object per record, without the null fields, as other fine-tuning tools expect
    (a conversation as OpenAI's `{"messages": [{"role", "content"}, ...]}`)."""
    with path.open("w", encoding="utf-8") as handle:
        for batch in dataset.iter(batch_size=1000):  # batches: row by row, datasets formats each row anew
            for values in zip(*batch.values(), strict=False):
                row = {key: value for key, value in zip(batch, values, strict=False) if value is not None}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
