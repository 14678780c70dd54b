"""splits: train / validation by a hash of the normalized prompt, also exported as JSONL."""

import json
import uuid
from pathlib import Path

import dagster as dg
import datasets
from pydantic import Field

from llm_pipeline.defs.assets.clustered import clustered
from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.metadata import balance_metadata, preview_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION, assign_split
from llm_pipeline.storage.atomic import atomic_dir
from llm_pipeline.storage.stage_output import iter_records, load_records

STAGE = "splits"
JSONL_NAMES = {TRAIN: "train.jsonl", VALIDATION: "val.jsonl"}


class SplitConfig(dg.Config):
    validation_ratio: float = Field(default=0.1, description="Share of prompts that go to validation (0 < ratio < 1).")
    salt: str = Field(default="", description="Mixed into the split hash; change it to draw a different split.")


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[clustered],
    description="`train` and `validation` splits, stable under added data; exported as train.jsonl / val.jsonl too.",
)
def splits(context: dg.AssetExecutionContext, config: SplitConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    layout = data_dir.layout
    source = load_records(layout.stage("clustered"))
    sides: dict[str, list[int]] = {TRAIN: [], VALIDATION: []}
    for index, record in enumerate(iter_records(source)):
        sides[assign_split(record, config.validation_ratio, config.salt)].append(index)
    for side, indices in sides.items():
        if not indices:
            raise dg.Failure(
                f"the {side} split is empty ({len(source)} records in all): add data or change validation_ratio "
                f"(now {config.validation_ratio})"
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
    context.log.info(f"train {len(sides[TRAIN])}, validation {len(sides[VALIDATION])}")
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(len(source), len(source), 0, 0),
            "path": dg.MetadataValue.path(str(target)),
            "train_records": dg.MetadataValue.int(len(sides[TRAIN])),
            "validation_records": dg.MetadataValue.int(len(sides[VALIDATION])),
            "validation_share": dg.MetadataValue.float(round(len(sides[VALIDATION]) / len(source), 4)),
            "train_jsonl": dg.MetadataValue.path(str(target / JSONL_NAMES[TRAIN])),
            "val_jsonl": dg.MetadataValue.path(str(target / JSONL_NAMES[VALIDATION])),
            "validation_preview": dg.MetadataValue.md(
                preview_markdown(result[VALIDATION], ["source", "text", "input", "output", "cluster"])
            ),
            "dagster/row_count": dg.MetadataValue.int(len(source)),
        }
    )


def write_jsonl(dataset: datasets.Dataset, path: Path) -> None:
    """One JSON object per record, without the null fields, as other fine-tuning tools expect."""
    with path.open("w", encoding="utf-8") as handle:
        for batch in dataset.iter(batch_size=1000):  # batches: row by row, datasets formats each row anew
            for values in zip(*batch.values(), strict=False):
                row = {key: value for key, value in zip(batch, values, strict=False) if value is not None}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
