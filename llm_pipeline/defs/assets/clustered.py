"""clustered: a topic cluster per record (TF-IDF + k-means), summarised for the UI."""


import dagster as dg
from pydantic import Field

from llm_pipeline.cluster import ClusterSettings, cluster_texts, summaries_markdown
from llm_pipeline.defs.assets.filtered import filtered
from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.metadata import balance_metadata
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stage_store import iter_records, load_records, save_dataset

STAGE = "clustered"


class ClusterConfig(dg.Config):
    num_clusters: int = Field(default=0, description="Number of k-means clusters; 0 chooses sqrt(n/2), between 2 and 20.")
    max_features: int = Field(default=20_000, description="Vocabulary size of the TF-IDF vectorizer.")
    seed: int = Field(default=0, description="Random seed of k-means, so cluster ids are stable across runs.")


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"scikitlearn", "arrow"},
    deps=[filtered],
    description="Filtered records with a `cluster` id from TF-IDF + k-means; cluster sizes and top terms in metadata.",
)
def clustered(context: dg.AssetExecutionContext, config: ClusterConfig, data_dir: DataDirResource) -> dg.MaterializeResult:
    layout = data_dir.layout
    source = load_records(layout.stage("filtered"))
    texts = [record.content for record in iter_records(source)]
    settings = ClusterSettings(num_clusters=config.num_clusters, max_features=config.max_features, seed=config.seed)
    labels, summaries = cluster_texts(texts, settings)
    save_dataset(source.add_column("cluster", labels.tolist()), layout.stage(STAGE))
    context.log.info(f"{len(summaries)} clusters over {len(texts)} records")
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(len(source), len(source), 0, 0),
            "path": dg.MetadataValue.path(str(layout.stage(STAGE))),
            "num_clusters": dg.MetadataValue.int(len(summaries)),
            "clusters": dg.MetadataValue.md(summaries_markdown(summaries)),
            "dagster/row_count": dg.MetadataValue.int(len(source)),
        }
    )
