"""splits: train / validation by a hash of the normalized prompt, also exported as JSONL."""

import dagster as dg

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.metadata import balance_metadata, preview_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.splits.assign import TRAIN, VALIDATION
from llm_pipeline.stages.splits.run import EmptySplitError, run
from llm_pipeline.stages.splits.settings import SplitSettings
from llm_pipeline.storage.fingerprint import saved_dataset_digest

STAGE_MODULE = "llm_pipeline.stages.splits.run"


def splits_asset(project_settings: SplitSettings) -> dg.AssetsDefinition:
    """The splits asset; its config defaults to the project file's `splits` section."""
    splits_config = config_class(SplitSettings, "SplitConfig", defaults=project_settings)

    @dg.asset(
        group_name=DATASET_GROUP,
        kinds={"python", "arrow"},
        code_version=stage_code_version(STAGE_MODULE, project_settings),
        deps=["clustered"],
        description="`train` and `validation` splits, stable under added data; exported as train.jsonl / val.jsonl too.",
    )
    def splits(
        context: dg.AssetExecutionContext, config: splits_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, SplitSettings, project_settings)
        try:
            with data_dir.writing(context, "splits") as layout:
                result = run(layout, settings, log=context.log.info)
        except EmptySplitError as error:
            raise dg.Failure(str(error)) from error
        records, train, validation = result.records, len(result.splits[TRAIN]), len(result.splits[VALIDATION])
        return dg.MaterializeResult(
            # By content: a dataset run whose change fell away leaves the splits, and what follows them, as they were.
            data_version=dg.DataVersion(saved_dataset_digest(result.output)[:16]),
            metadata={
                **balance_metadata(records, records, 0, 0),
                "path": dg.MetadataValue.path(str(result.output)),
                "train_records": dg.MetadataValue.int(train),
                "validation_records": dg.MetadataValue.int(validation),
                "validation_share": dg.MetadataValue.float(round(validation / records, 4)),
                "train_jsonl": dg.MetadataValue.path(str(result.jsonl[TRAIN])),
                "val_jsonl": dg.MetadataValue.path(str(result.jsonl[VALIDATION])),
                "validation_preview": dg.MetadataValue.md(
                    preview_markdown(
                        result.splits[VALIDATION], ["source", "text", "input", "output", "messages", "cluster"]
                    )
                ),
                "dagster/row_count": dg.MetadataValue.int(records),
                **overrides_metadata(overrides),
            },
        )

    return splits
