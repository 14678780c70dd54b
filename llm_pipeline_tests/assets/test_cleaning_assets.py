"""The filtered and clustered assets end to end: rejections with reasons, groups, caps, metadata."""

import json

import dagster as dg
import datasets
import numpy as np
import pytest

from llm_pipeline.definitions import pipeline_assets
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.defs.config import config_class, to_settings
from llm_pipeline.stages.filtered.dedup import NearDuplicateSettings
from llm_pipeline.stages.filtered.filters import language, phrases, quality
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline_tests.support.dagster_resources import local_resources

FilterConfig = config_class(FilterSettings, "FilterConfig")

LONG_ANSWER = (
    "Resting lets the gluten relax and the yeast produce gas, so the loaf rises evenly and the crumb "
    "stays open. Give a lean dough about an hour at room temperature, or leave it overnight in the "
    "fridge for more flavour, then shape it gently so the trapped gas stays inside."
)
TOPIC_WORDS = {
    "cooking": [
        "simmer",
        "onion",
        "garlic",
        "butter",
        "tomato",
        "sauce",
        "pan",
        "oven",
        "bake",
        "flour",
        "salt",
        "stock",
    ],
    "network": [
        "router",
        "dhcp",
        "address",
        "laptop",
        "wifi",
        "packet",
        "firewall",
        "modem",
        "cable",
        "switch",
        "port",
        "dns",
    ],
    "astronomy": [
        "telescope",
        "jupiter",
        "moon",
        "orbit",
        "galaxy",
        "comet",
        "nebula",
        "eclipse",
        "planet",
        "star",
        "sky",
        "lens",
    ],
}
TOPIC_SIZES = {"cooking": 8, "network": 8, "astronomy": 3}


def write_corpus(root):
    rng = np.random.default_rng(3)
    lines = [
        {"input": f"Tell me about {topic}, question {index}", "output": " ".join(rng.choice(words, size=12))}
        for topic, words in TOPIC_WORDS.items()
        for index in range(TOPIC_SIZES[topic])
    ]
    lines += [
        {"input": "Why does bread dough need to rest?", "output": LONG_ANSWER},
        {
            "input": "Why does bread dough need to rest?",
            "output": LONG_ANSWER.replace("about an hour", "around an hour"),
        },
        {"input": "Is this ethical?", "output": "It is important to note that ethics vary; I must emphasize caution."},
        {"input": "Who handles refunds?", "output": "Email refunds@shop.example or call +44 20 7946 0958 on weekdays."},
    ]
    (root / "raw" / "jsonl").mkdir(parents=True)
    (root / "raw" / "jsonl" / "corpus.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return root


def metadata_of(result: dg.ExecuteInProcessResult, stage: str) -> dict:
    events = [event for event in result.get_asset_materialization_events() if event.asset_key.path == [stage]]
    return {key: value.value for key, value in events[-1].materialization.metadata.items()}


def test_filtered_and_clustered_explain_every_drop(tmp_path):
    data_dir = write_corpus(tmp_path / "data")
    result = dg.materialize(
        [*raw_sources, *pipeline_assets, *asset_checks],
        selection=["plaintext", "filtered", "clustered"],
        resources=local_resources(data_dir),
        run_config=dg.RunConfig(
            ops={
                "filtered": {"config": {"phrases": {"list": "aggressive"}, "redact_pii": True}},
                "clustered": {"config": {"num_clusters": 3, "max_per_cluster": 6, "min_cluster_size": 5}},
            }
        ),
    )
    assert result.success
    assert all(evaluation.passed for evaluation in result.get_asset_check_evaluations())

    rejected = list(datasets.load_from_disk(str(data_dir / "rejected" / "filtered")))
    by_reason = {row["reason"]: row for row in rejected}
    assert set(by_reason) == {"near_duplicate", "synthetic_phrase"}
    kept = {row["input"]: row for row in datasets.load_from_disk(str(data_dir / "filtered"))}
    first_bread = kept["Why does bread dough need to rest?"]
    assert first_bread["output"] == LONG_ANSWER
    near = by_reason["near_duplicate"]
    assert (
        f"near-duplicate of {first_bread['id']} ({first_bread['source']}); group {first_bread['id']}" in near["detail"]
    )
    assert near["stage"] == "filtered" and near["source"] == "jsonl/corpus.jsonl line 21"
    assert kept["Who handles refunds?"]["output"] == "Email <EMAIL> or call <PHONE> on weekdays."

    filtered = metadata_of(result, "filtered")
    assert filtered["records_in"] == 23 and filtered["records_kept"] == 21 and filtered["records_dropped"] == 2
    assert "| near_duplicate | 1 |" in filtered["dropped_by_reason"]
    assert "estimated Jaccard" in filtered["dropped_samples"]
    assert filtered["duplicate_groups"] == 1 and filtered["records_redacted"] == 1
    assert "| email | 1 |" in filtered["pii_redactions"] and "| phone | 1 |" in filtered["pii_redactions"]

    clustered = metadata_of(result, "clustered")
    quarantine = list(datasets.load_from_disk(str(data_dir / "rejected" / "clustered")))
    noise = {row["source"] for row in quarantine if row["reason"] == "noise_cluster"}
    astronomy = {f"jsonl/corpus.jsonl line {line}" for line in (17, 18, 19)}
    assert astronomy <= noise and len(noise) < 5  # the three-record topic (and at most one stray) is noise
    assert any(row["reason"] == "cluster_cap" for row in quarantine)
    assert all(
        row["stage"] == "clustered" and row["source"].startswith("jsonl/corpus.jsonl line") for row in quarantine
    )
    output = datasets.load_from_disk(str(data_dir / "clustered"))
    assert clustered["records_in"] == 21 and clustered["records_kept"] == len(output)
    assert clustered["records_dropped"] == len(quarantine) == 21 - len(output)
    assert max(np.bincount(output["cluster"])) <= 6
    assert clustered["num_clusters"] == 3 and clustered["clusters"].startswith(
        "| cluster | size | top terms | examples |"
    )


def test_the_filtered_config_is_the_settings_nested_per_filter():
    assert to_settings(FilterConfig(), FilterSettings) == FilterSettings()
    config = FilterConfig(
        quality={"min_words_response": 3, "max_top_ngram_char_fraction": {"2": 0.5}},
        phrases={"list": "aggressive", "extra": ["Let me be clear"]},
        language={"languages": ["en", "de"], "min_bytes": 80, "min_score": 0.9},
        dedup_near=False,
        near_duplicates={"threshold": 0.9},
    )
    assert to_settings(config, FilterSettings) == FilterSettings(
        quality=quality.Settings(min_words_response=3, max_top_ngram_char_fraction={2: 0.5}),
        phrases=phrases.Settings("aggressive", ("Let me be clear",)),
        language=language.Settings(("en", "de"), 80, 0.9),
        dedup_near=False,
        near_duplicates=NearDuplicateSettings(threshold=0.9),
    )
    described = FilterConfig.model_json_schema()
    assert "description" in described["properties"]["redact_pii"]


def test_an_unknown_phrase_list_is_refused_before_the_run(tmp_path):
    data_dir = write_corpus(tmp_path / "data")
    with pytest.raises(dg.DagsterInvalidConfigError, match="strict"):
        dg.materialize(
            [*raw_sources, *pipeline_assets],
            selection=["plaintext", "filtered"],
            resources=local_resources(data_dir),
            run_config=dg.RunConfig(ops={"filtered": {"config": {"phrases": {"list": "strict"}}}}),
        )
    assert not (data_dir / "plaintext").exists() and not (data_dir / "filtered").exists()
