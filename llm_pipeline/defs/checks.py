"""Asset checks; the blocking ones stop a run before bad data reaches the GPU step."""


import dagster as dg
import datasets

from llm_pipeline.dataset_checks import rows_without_targets, shared_prompts
from llm_pipeline.defs.assets.model_inputs import TOKENIZED_STAGE, tokenized
from llm_pipeline.defs.assets.splits import splits
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.split import TRAIN, VALIDATION
from llm_pipeline.stage_store import iter_records


@dg.asset_check(asset=splits, blocking=True, description="No normalized prompt sits on both sides of the split.")
def splits_share_no_prompt(data_dir: DataDirResource) -> dg.AssetCheckResult:
    parts = datasets.load_from_disk(str(data_dir.layout.stage("splits")))
    shared = shared_prompts(iter_records(parts[TRAIN]), iter_records(parts[VALIDATION]))
    return dg.AssetCheckResult(
        passed=not shared,
        metadata={"shared_prompts": len(shared), "examples": dg.MetadataValue.json(shared[:5])},
    )


@dg.asset_check(asset=tokenized, blocking=True, description="Every tokenized record has at least one unmasked label.")
def tokenized_has_targets(data_dir: DataDirResource) -> dg.AssetCheckResult:
    parts = datasets.load_from_disk(str(data_dir.layout.stage(TOKENIZED_STAGE)))
    empty = {name: rows_without_targets(split) for name, split in parts.items()}
    count = sum(len(ids) for ids in empty.values())
    return dg.AssetCheckResult(
        passed=count == 0,
        metadata={"records_without_targets": count, "examples": dg.MetadataValue.json({k: v[:5] for k, v in empty.items()})},
    )


asset_checks = [splits_share_no_prompt, tokenized_has_targets]
