"""The clustered stage's run: filtered records in, a `cluster` column out, capped records quarantined."""

import datasets
import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.clustered.run import run
from llm_pipeline.stages.clustered.settings import ClusterSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import save_records

GARDEN = ["compost", "seedling", "tomato", "mulch", "watering", "soil", "pruning", "weeds"]
SPACE = ["telescope", "orbit", "jupiter", "comet", "galaxy", "nebula", "eclipse", "planet"]


def write_filtered(layout: DataLayout) -> list[Record]:
    records = [
        Record.unsupervised(f"{' '.join(words[i:] + words[:i])} note {i}", f"notes.jsonl line {n}", "jsonl")
        for n, (words, i) in enumerate([(GARDEN, i) for i in range(8)] + [(SPACE, i) for i in range(4)])
    ]
    save_records(records, layout.stage("filtered"))
    return records


def test_every_record_gets_a_cluster_or_a_quarantine_reason(tmp_path):
    layout = DataLayout(tmp_path)
    records = write_filtered(layout)
    messages = []
    result = run(layout, ClusterSettings(num_clusters=2, max_per_cluster=5), log=messages.append)

    clustered = datasets.load_from_disk(str(layout.stage("clustered")))
    rejected = datasets.load_from_disk(str(layout.rejected("clustered")))
    assert result.records_in == len(records) == len(clustered) + len(rejected)
    assert result.kept == len(clustered) == 5 + 4  # the garden cluster capped at 5, the space cluster whole
    assert set(rejected["reason"]) == {"cluster_cap"} and result.dropped_by_reason == {"cluster_cap": 3}
    assert set(clustered["id"]).isdisjoint(rejected["record_id"])
    space = {record.id for record in records[8:]}
    assert len({row["cluster"] for row in clustered if row["id"] in space}) == 1
    assert result.clustering.k == 2 and messages and "k=2" in messages[0]


def test_noise_clusters_go_and_a_rerun_gives_the_same_clusters(tmp_path):
    layout = DataLayout(tmp_path)
    write_filtered(layout)
    first = run(layout, ClusterSettings(num_clusters=2, min_cluster_size=5))
    assert first.dropped_by_reason == {"noise_cluster": 4}
    kept = datasets.load_from_disk(str(layout.stage("clustered")))
    again = run(layout, ClusterSettings(num_clusters=2, min_cluster_size=5))
    assert again.clustering.labels.tolist() == first.clustering.labels.tolist()
    assert datasets.load_from_disk(str(layout.stage("clustered")))["cluster"] == kept["cluster"]


def test_missing_upstream_and_unknown_vectorizer_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialize the upstream asset first"):
        run(DataLayout(tmp_path))
    with pytest.raises(ValueError, match="unknown vectorizer 'bert'"):
        ClusterSettings(vectorizer="bert")


def test_conversations_are_clustered_by_their_content_and_keep_their_turns(tmp_path):
    layout = DataLayout(tmp_path)
    turns = [
        [
            ("user", f"How do I water my {' '.join(GARDEN[i : i + 3])}?"),
            ("assistant", f"Garden advice: {' '.join(GARDEN)}."),
        ]
        for i in range(5)
    ] + [
        [
            ("user", f"What can I see tonight: {' '.join(SPACE[i : i + 3])}?"),
            ("assistant", f"Sky advice: {' '.join(SPACE)}."),
        ]
        for i in range(5)
    ]
    records = [
        Record.chat([{"role": role, "content": content} for role, content in chat], f"chat.jsonl line {n}", "jsonl")
        for n, chat in enumerate(turns, start=1)
    ]
    save_records(records, layout.stage("filtered"))
    run(layout, ClusterSettings(num_clusters=2))
    clustered = datasets.load_from_disk(str(layout.stage("clustered")))
    assert clustered["messages"] == [[dict(turn) for turn in record.messages] for record in records]
    assert len(set(clustered["cluster"][:5])) == len(set(clustered["cluster"][5:])) == 1
    assert clustered["cluster"][0] != clustered["cluster"][5]
