"""filtered: synthetic-data artefacts, low-quality text, other languages and duplicates removed, each
with its reason."""

import dagster as dg

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP, plaintext
from llm_pipeline.defs.config import config_class, to_settings
from llm_pipeline.defs.metadata import filtered_metadata
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.filtered.run import run
from llm_pipeline.stages.filtered.settings import FilterSettings

FilterConfig = config_class(FilterSettings, "FilterConfig")


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"python", "arrow"},
    deps=[plaintext],
    description="Records without synthetic-data artefacts, low-quality text (Gopher-style heuristics), text in "
    "languages not kept, or exact and near duplicates; personal data optionally redacted; the rest, with reasons, "
    "in rejected/filtered. The verdicts and MinHash signatures of unchanged records come from cache/filtered; the "
    "duplicate search runs over all.",
)
def filtered(
    context: dg.AssetExecutionContext, config: FilterConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    settings = to_settings(config, FilterSettings)
    result = run(data_dir.layout, settings, log=context.log.info)
    return dg.MaterializeResult(metadata=filtered_metadata(result, settings))
