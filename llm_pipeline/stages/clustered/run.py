"""Filtered records -> the clustered stage output and its quarantine: the stage's work.

Every record gets a topic cluster; with the diversity caps on, records beyond a cluster's cap
and every record of a noise cluster are quarantined (`cluster_cap`, `noise_cluster`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.stages.clustered.clustering import Clustering, cluster_texts, diversity_drops
from llm_pipeline.stages.clustered.settings import ClusterSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import iter_records, load_records, save_dataset, save_rejections

STAGE = "clustered"
UPSTREAM = "filtered"


@dataclass
class ClusteredResult:
    """What a run wrote and found: the asset's metadata."""

    output: Path
    records_in: int
    kept: int
    clustering: Clustering  # over every input record, before the caps
    dropped: list[Rejection]  # capped and noise-cluster records, in input order

    @property
    def dropped_by_reason(self) -> Counter:
        return Counter(item.reason for item in self.dropped)


def run(
    layout: DataLayout, settings: ClusterSettings | None = None, log: Callable[[str], None] = lambda message: None
) -> ClusteredResult:
    """Cluster `layout.stage("filtered")` into `layout.stage("clustered")` (a `cluster` column
    added), capped and noise-cluster records into `layout.rejected("clustered")`."""
    settings = settings or ClusterSettings()
    source = load_records(layout.stage(UPSTREAM))
    records = list(iter_records(source))
    clustering = cluster_texts([record.content for record in records], settings)
    drops = diversity_drops(clustering.labels, settings.max_per_cluster, settings.min_cluster_size, settings.seed)
    kept = [index for index in range(len(records)) if index not in drops]
    dropped = [Rejection.of_record(records[index], STAGE, *drops[index]) for index in sorted(drops)]
    # Fresh fingerprints: datasets would otherwise hash the index list to name a cache we never reuse.
    chosen = source.select(kept, new_fingerprint=uuid.uuid4().hex)
    save_dataset(
        chosen.add_column("cluster", clustering.labels[kept].tolist(), new_fingerprint=uuid.uuid4().hex),
        layout.stage(STAGE),
    )
    save_rejections(dropped, layout.rejected(STAGE))
    result = ClusteredResult(layout.stage(STAGE), len(records), len(kept), clustering, dropped)
    log(
        f"k={clustering.k} over {len(records)} records (silhouette {clustering.silhouette}); "
        f"dropped {dict(result.dropped_by_reason)}"
    )
    return result
