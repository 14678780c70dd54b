"""splits: train / validation by a hash of the normalized prompt, also exported as JSONL."""

import dagster as dg

from llm_pipeline.defs.assets.clustered import clustered
from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.config import config_class, to_settings
from llm_pipeline.defs.metadata import balance_metadata, preview_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION
from llm_pipeline.stages.splits.run import EmptySplitError, run
from llm_pipeline.stages.splits.settings import SplitSettings

SplitConfig = config_class(SplitSettings, "SplitConfig")


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[clustered],
    description="`train` and `validation` splits, stable under added data; exported as train.jsonl / val.jsonl too.",
)
def splits(context: dg.AssetExecutionContext, config: SplitConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    try:
        result = run(data_dir.layout, to_settings(config, SplitSettings), log=context.log.info)
    except EmptySplitError as error:
        raise dg.Failure(str(error)) from error
    records, train, validation = result.records, len(result.splits[TRAIN]), len(result.splits[VALIDATION])
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(records, records, 0, 0),
            "path": dg.MetadataValue.path(str(result.output)),
            "train_records": dg.MetadataValue.int(train),
            "validation_records": dg.MetadataValue.int(validation),
            "validation_share": dg.MetadataValue.float(round(validation / records, 4)),
            "train_jsonl": dg.MetadataValue.path(str(result.jsonl[TRAIN])),
            "val_jsonl": dg.MetadataValue.path(str(result.jsonl[VALIDATION])),
            "validation_preview": dg.MetadataValue.md(
                preview_markdown(result.splits[VALIDATION], ["source", "text", "input", "output", "cluster"])
            ),
            "dagster/row_count": dg.MetadataValue.int(records),
        }
    )
