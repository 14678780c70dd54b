"""Topic clusters of the corpus: TF-IDF vectors, k-means, and a readable summary per cluster.

Deterministic for a given seed, so re-running on the same data gives the same cluster ids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Above this many records MiniBatchKMeans keeps clustering time and memory flat.
MINIBATCH_ABOVE = 10_000
MAX_AUTO_CLUSTERS = 20


@dataclass(frozen=True)
class ClusterSettings:
    num_clusters: int = 0  # 0: chosen from the corpus size
    max_features: int = 20_000
    top_terms: int = 8
    seed: int = 0


@dataclass(frozen=True)
class ClusterSummary:
    cluster: int
    size: int
    top_terms: tuple[str, ...]
    example: str


def auto_cluster_count(num_texts: int) -> int:
    """sqrt(n / 2), the usual rule of thumb, kept between 2 and MAX_AUTO_CLUSTERS."""
    return max(1, min(num_texts, MAX_AUTO_CLUSTERS, max(2, round(math.sqrt(num_texts / 2)))))


def cluster_texts(texts: Sequence[str], settings: ClusterSettings) -> tuple[np.ndarray, list[ClusterSummary]]:
    """A cluster id per text, and a summary per cluster (largest first)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts:
        return np.zeros(0, dtype=np.int64), []
    k = settings.num_clusters or auto_cluster_count(len(texts))
    k = min(k, len(texts))
    vectorizer = TfidfVectorizer(max_features=settings.max_features, stop_words="english", sublinear_tf=True)
    try:
        vectors = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words or punctuation: one cluster is the honest answer
        labels = np.zeros(len(texts), dtype=np.int64)
        return labels, [ClusterSummary(0, len(texts), (), texts[0][:120])]
    if k <= 1:
        labels = np.zeros(len(texts), dtype=np.int64)
    else:
        model_class = MiniBatchKMeans if len(texts) > MINIBATCH_ABOVE else KMeans
        model = model_class(n_clusters=k, random_state=settings.seed, n_init=3)
        labels = model.fit_predict(vectors).astype(np.int64)
    return labels, _summaries(texts, vectors, labels, vectorizer.get_feature_names_out(), settings.top_terms)


def _summaries(texts, vectors, labels, vocabulary, top_terms) -> list[ClusterSummary]:
    summaries = []
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        weights = np.asarray(vectors[members].mean(axis=0)).ravel()
        terms = tuple(vocabulary[index] for index in weights.argsort()[::-1][:top_terms] if weights[index] > 0)
        summaries.append(ClusterSummary(int(cluster), len(members), terms, " ".join(texts[members[0]].split())[:120]))
    return sorted(summaries, key=lambda summary: (-summary.size, summary.cluster))


def summaries_markdown(summaries: Sequence[ClusterSummary]) -> str:
    lines = ["| cluster | size | top terms | example |", "|---:|---:|---|---|"]
    for summary in summaries:
        example = summary.example.replace("|", "\\|")
        lines.append(f"| {summary.cluster} | {summary.size} | {', '.join(summary.top_terms)} | {example} |")
    return "\n".join(lines)
