"""Asset tests: dg.materialize over a tiny raw fixture in a temporary data directory."""

from pathlib import Path

import dagster as dg
import datasets
import pytest

from llm_pipeline.definitions import pipeline_assets
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.defs.metadata import silhouettes_markdown, summaries_markdown
from llm_pipeline.stages.clustered.clustering import ClusterSettings, cluster_texts
from llm_pipeline.text import normalize
from llm_pipeline.training.diagnosis import VERDICTS
from llm_pipeline_tests.support.dagster_resources import local_resources

DATASET_STAGES = ["plaintext", "filtered", "clustered", "splits"]


def materialize(data_dir: Path, stages: list[str], run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [*raw_sources, *pipeline_assets, *asset_checks],
        selection=stages,
        resources=local_resources(data_dir),
        run_config=dg.RunConfig(ops=run_config or {}),
    )
    assert result.success
    return result


def metadata_of(result: dg.ExecuteInProcessResult, stage: str) -> dict:
    events = [event for event in result.get_asset_materialization_events() if event.asset_key.path == [stage]]
    return {key: value.value for key, value in events[-1].materialization.metadata.items()}


def rejected(data_dir: Path, stage: str) -> dict[str, str]:
    return {row["source"]: row["reason"] for row in datasets.load_from_disk(str(data_dir / "rejected" / stage))}


def test_dataset_stages_keep_account_of_every_input(raw_data_dir):
    result = materialize(raw_data_dir, DATASET_STAGES, {"splits": {"config": {"validation_ratio": 0.25}}})

    plaintext = metadata_of(result, "plaintext")
    assert plaintext["records_in"] == plaintext["records_kept"] + plaintext["records_rejected"]
    quarantined = rejected(raw_data_dir, "plaintext")
    assert quarantined["html/logo.html"] == "not_html"
    assert quarantined["html/empty.html"] == "empty_file"
    assert quarantined["jsonl/qa.jsonl line 44"] == "bad_json_line"
    assert any(source.startswith("csv/faq.csv") and reason == "bad_csv_row" for source, reason in quarantined.items())
    assert any(
        source.startswith("sql/posts.sql") and reason == "bad_sql_statement" for source, reason in quarantined.items()
    )
    records = datasets.load_from_disk(str(raw_data_dir / "plaintext"))
    by_format = {fmt: [row for row in records if row["format"] == fmt] for fmt in ("html", "csv", "sql", "jsonl")}
    assert len(by_format["html"]) == 1 and "compost heap" in by_format["html"][0]["text"]
    assert "Home" not in by_format["html"][0]["text"] and "Copyright" not in by_format["html"][0]["text"]
    assert len(by_format["csv"]) == 5  # 4 question/answer rows and the cp1252 tip
    assert any("sixty degrees \u2013 hotter" in (row["text"] or "") for row in by_format["csv"])
    assert len(by_format["sql"]) == 4 and any("Jupiter's moons" in row["text"] for row in by_format["sql"])
    assert len(by_format["jsonl"]) == 43

    filtered = metadata_of(result, "filtered")
    assert filtered["records_in"] == plaintext["records_kept"]
    assert filtered["records_in"] == filtered["records_kept"] + filtered["records_dropped"]
    dropped = rejected(raw_data_dir, "filtered")
    assert "exact_duplicate" in dropped.values()
    assert any(reason.startswith("synthetic_phrase") for reason in dropped.values())
    kept_prompts = {row["input"] for row in datasets.load_from_disk(str(raw_data_dir / "filtered")) if row["input"]}
    assert "Are you trained by OpenAI?" in kept_prompts  # the prompt mentions OpenAI, the answer is clean

    clustered = datasets.load_from_disk(str(raw_data_dir / "clustered"))
    assert len(clustered) == filtered["records_kept"] and "cluster" in clustered.column_names
    assert metadata_of(result, "clustered")["clusters"].startswith("| cluster | size |")

    splits = datasets.load_from_disk(str(raw_data_dir / "splits"))
    assert len(splits["train"]) + len(splits["validation"]) == len(clustered)
    train_prompts = {normalize(row["input"] or row["text"]) for row in splits["train"]}
    assert not any(normalize(row["input"] or row["text"]) in train_prompts for row in splits["validation"])
    assert (raw_data_dir / "splits" / "train.jsonl").read_text().count("\n") == len(splits["train"])
    assert (raw_data_dir / "splits" / "val.jsonl").read_text().count("\n") == len(splits["validation"])


def test_empty_validation_split_fails_with_a_clear_message(tmp_path):
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    (tmp_path / "raw" / "jsonl" / "one.jsonl").write_text('{"text": "A single record cannot fill two splits."}\n')
    with pytest.raises(dg.Failure, match="split is empty"):
        dg.materialize(
            [*raw_sources, *pipeline_assets],
            selection=DATASET_STAGES,
            resources=local_resources(tmp_path),
        )


def test_an_unknown_vectorizer_is_refused_by_config_validation_before_the_run(tmp_path):
    with pytest.raises(dg.DagsterInvalidConfigError, match="vectorizer") as refused:
        dg.materialize(
            [*raw_sources, *pipeline_assets],
            selection=DATASET_STAGES,
            resources=local_resources(tmp_path),
            run_config=dg.RunConfig(ops={"clustered": {"config": {"vectorizer": "bert"}}}),
        )
    assert "tfidf" in str(refused.value) and "embeddings" in str(refused.value)  # the choices are named
    assert not (tmp_path / "plaintext").exists()  # no step ran


def test_cluster_tables_escape_pipes_and_mark_the_chosen_k():
    clustering = cluster_texts(
        ["a | b pipes in the garden", "c | d pipes in the garden"], ClusterSettings(num_clusters=1)
    )
    table = summaries_markdown(clustering.summaries)
    assert table.startswith("| cluster | size | top terms | examples |") and "a \\| b" in table
    assert "| **3** | 0.5000 |" in silhouettes_markdown({2: 0.25, 3: 0.5}, chosen=3)
    assert silhouettes_markdown({}, chosen=4) == "_k was set, not searched_"


@pytest.mark.slow
def test_whole_graph_trains_and_reports_the_learning_curve(raw_data_dir):
    result = materialize(
        raw_data_dir,
        [*DATASET_STAGES, "base_model", "tokenized", "checkpoint"],
        {
            "splits": {"config": {"validation_ratio": 0.25}},
            "base_model": {"config": {"tiny_vocab_size": 512}},
            "tokenized": {"config": {"max_length": 96}},
            "checkpoint": {
                "config": {
                    "method": "lora",
                    "max_steps": 12,
                    "eval_steps": 4,
                    "logging_steps": 2,
                    "learning_rate": 1e-3,
                }
            },
        },
    )
    tokenized = datasets.load_from_disk(str(raw_data_dir / "tokenized"))
    assert set(tokenized["train"].column_names) >= {"input_ids", "attention_mask", "labels"}

    checkpoint = metadata_of(result, "checkpoint")
    assert checkpoint["method"] == "lora" and checkpoint["reused"] is False
    # The launchpad's values are one-off overrides of the project file, and the run names them.
    overrides = checkpoint["project_file_overrides"]
    assert overrides["method"] == {"file": "full", "run": "lora"} and overrides["max_steps"]["run"] == 12
    assert "num_train_epochs" not in overrides
    assert checkpoint["diagnosis"] in VERDICTS
    assert checkpoint["learning_curve_plot"].startswith("![learning curve](data:image/png;base64,")
    table = checkpoint["learning_curve_table"]
    assert [record.data["step"] for record in table.records][-1] == 12
    assert all(record.data["validation_loss"] is not None for record in table.records if record.data["step"] % 4 == 0)
    assert checkpoint["final_train_loss"] > 0 and checkpoint["final_eval_loss"] > 0
    assert (Path(checkpoint["model_path"]) / "adapter_config.json").exists()
    checks = {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}
    assert {"splits_share_no_prompt", "tokenized_has_targets", "tokenized_counts_balance"} <= set(checks)
    failed = [name for name, evaluation in checks.items() if not evaluation.passed]
    assert all(checks[name].severity == dg.AssetCheckSeverity.WARN for name in failed), failed

    # The same data, base model and settings again: the finished run is reused, not resumed or retrained.
    again = dg.materialize(
        [*raw_sources, *pipeline_assets],
        selection=["checkpoint"],
        resources=local_resources(raw_data_dir),
        run_config=dg.RunConfig(ops={"checkpoint": {"config": result_config(result)}}),
    )
    reused = metadata_of(again, "checkpoint")
    assert reused["reused"] is True and "nothing was trained" in reused["note"]
    assert reused["learning_curve"] == checkpoint["learning_curve"]
    assert reused["final_eval_loss"] == checkpoint["final_eval_loss"] and reused["global_steps"] == 12
    assert reused["diagnosis"] == checkpoint["diagnosis"]


def result_config(result: dg.ExecuteInProcessResult) -> dict:
    """The checkpoint config the run used (the launchpad's part of it)."""
    return result.dagster_run.run_config["ops"]["checkpoint"]["config"]
