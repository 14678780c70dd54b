"""The definitions load, and the graph, jobs and concurrency are wired as the README says."""

import dagster as dg
import yaml

from llm_pipeline.definitions import defs
from llm_pipeline_tests.support import REPO_ROOT

REPO = REPO_ROOT
STAGES = [
    "plaintext",
    "filtered",
    "clustered",
    "splits",
    "base_model",
    "tokenized",
    "checkpoint",
    "merged_model",
    "evaluation",
    "promoted_model",
]


def test_definitions_load_with_every_stage():
    repository = defs.get_repository_def()
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert set(STAGES) | {"raw_html", "raw_csv", "raw_sql", "raw_jsonl", "raw_json", "raw_parquet"} <= keys
    graph = repository.asset_graph
    assert {parent.to_user_string() for parent in graph.get(dg.AssetKey("plaintext")).parent_keys} == {
        "raw_html",
        "raw_csv",
        "raw_sql",
        "raw_jsonl",
        "raw_json",
        "raw_parquet",
    }
    assert dg.AssetKey("tokenized") in graph.get(dg.AssetKey("checkpoint")).parent_keys


def test_jobs_cover_the_dataset_and_the_whole_graph():
    prepare = defs.resolve_job_def("prepare_dataset")
    fine_tune = defs.resolve_job_def("fine_tune")
    prepare_keys = {key.to_user_string() for key in prepare.asset_layer.selected_asset_keys}
    assert prepare_keys == set(STAGES) - {"checkpoint", "merged_model", "evaluation", "promoted_model"}
    assert {key.to_user_string() for key in fine_tune.asset_layer.selected_asset_keys} == set(STAGES)
    assert defs.resolve_schedule_def("daily_dataset_refresh").cron_schedule == "0 3 * * *"
    assert defs.resolve_sensor_def("raw_data_sensor").default_status == dg.DefaultSensorStatus.RUNNING


def test_training_step_is_in_the_gpu_pool_limited_to_one():
    checkpoint = defs.resolve_assets_def("checkpoint")
    assert checkpoint.op.pool == "gpu"
    instance_config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert instance_config["concurrency"]["pools"]["default_limit"] == 1
    assert instance_config["storage"]["sqlite"]


def test_every_config_field_has_a_description_and_appears_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for stage in STAGES:
        config_type = defs.resolve_assets_def(stage).op.config_schema.config_type
        for name, field in getattr(config_type, "fields", {}).items():  # merged_model takes no config
            assert field.description, f"{stage}.{name} has no description"
            assert f"`{name}`" in readme, f"{stage}.{name} is missing from the README's config reference"
