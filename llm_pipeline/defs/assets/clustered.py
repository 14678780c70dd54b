"""clustered: a topic cluster per record (TF-IDF or embeddings + k-means), summarised for the UI,
with optional caps per cluster and removal of tiny noise clusters."""

import dagster as dg

from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.metadata import (
    balance_metadata,
    counts_markdown,
    samples_by_reason_markdown,
    silhouettes_markdown,
    summaries_markdown,
)
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.clustered.run import run
from llm_pipeline.stages.clustered.settings import ClusterSettings

STAGE_MODULE = "llm_pipeline.stages.clustered.run"


def clustered_asset(project_settings: ClusterSettings) -> dg.AssetsDefinition:
    """The clustered asset; its config defaults to the project file's `clustered` section."""
    clustered_config = config_class(ClusterSettings, "ClusterConfig", defaults=project_settings)

    @dg.asset(
        group_name=DATASET_GROUP,
        kinds={"scikitlearn", "arrow"},
        code_version=stage_code_version(STAGE_MODULE, project_settings),
        deps=["filtered"],
        description="Filtered records with a `cluster` id (TF-IDF or embeddings + k-means, k by silhouette); cluster sizes, "
        "top terms and examples in metadata; capped or noise-cluster records in rejected/clustered.",
    )
    def clustered(
        context: dg.AssetExecutionContext, config: clustered_config, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        settings, overrides = run_settings(context, config, ClusterSettings, project_settings)
        with data_dir.writing(context, "clustered") as layout:
            result = run(layout, settings, log=context.log.info)
        clustering = result.clustering
        return dg.MaterializeResult(
            metadata={
                **balance_metadata(result.records_in, result.kept, len(result.dropped), 0),
                "path": dg.MetadataValue.path(str(result.output)),
                "vectorizer": dg.MetadataValue.text(settings.vectorizer),
                "num_clusters": dg.MetadataValue.int(clustering.k),
                "silhouette": (
                    dg.MetadataValue.float(clustering.silhouette)
                    if clustering.silhouette is not None
                    else dg.MetadataValue.text("n/a: one cluster")
                ),
                "k_search": dg.MetadataValue.md(silhouettes_markdown(clustering.candidates, clustering.k)),
                "clusters": dg.MetadataValue.md(summaries_markdown(clustering.summaries)),
                "dropped_by_reason": dg.MetadataValue.md(counts_markdown(result.dropped_by_reason)),
                "dropped_samples": dg.MetadataValue.md(samples_by_reason_markdown(result.dropped, with_detail=True)),
                "dagster/row_count": dg.MetadataValue.int(result.kept),
                **overrides_metadata(overrides),
            }
        )

    return clustered
