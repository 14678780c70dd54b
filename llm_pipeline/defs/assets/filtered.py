"""filtered: synthetic-data artefacts, low-quality text, other languages and duplicates removed, each
with its reason."""

import dagster as dg

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.metadata import filtered_metadata
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.filtered.run import run
from llm_pipeline.stages.filtered.settings import FilterSettings

STAGE_MODULE = "llm_pipeline.stages.filtered.run"


def filtered_asset(project_settings: FilterSettings) -> dg.AssetsDefinition:
    """The filtered asset; its config defaults to the project file's `filtered` section."""
    filtered_config = config_class(FilterSettings, "FilterConfig", defaults=project_settings)

    @dg.asset(
        group_name=DATASET_GROUP,
        kinds={"python", "arrow"},
        code_version=stage_code_version(STAGE_MODULE, project_settings),
        deps=["plaintext"],
        description="Records without synthetic-data artefacts, low-quality text (Gopher-style heuristics), text in "
        "languages not kept, or exact and near duplicates; personal data optionally redacted; the rest, with reasons, "
        "in rejected/filtered. The verdicts and MinHash signatures of unchanged records come from cache/filtered; the "
        "duplicate search runs over all.",
    )
    def filtered(
        context: dg.AssetExecutionContext, config: filtered_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, FilterSettings, project_settings)
        with data_dir.writing(context, "filtered") as layout:
            result = run(layout, settings, log=context.log.info)
        return dg.MaterializeResult(metadata={**filtered_metadata(result, settings), **overrides_metadata(overrides)})

    return filtered
