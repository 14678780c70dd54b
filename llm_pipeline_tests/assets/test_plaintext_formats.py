"""The formats added through the registry alone (raw/json, raw/parquet) flow through the asset,
the raw sources and the sensor; the generated config refuses a bad choice before a run starts."""

import json

import dagster as dg
import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llm_pipeline.definitions import defs
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.sensors import raw_data_sensor
from llm_pipeline_tests.support.dagster_resources import local_resources
from llm_pipeline_tests.support.stage_assets import stage_asset

plaintext = stage_asset("plaintext")

ALPACA = [
    {"instruction": "Describe a process of making crepes.", "input": "", "output": "Whisk flour, eggs and milk."},
    {"instruction": "Translate to English", "input": "bonjour", "output": "hello"},
    "a string where a record belongs",
]
QUESTIONS = ["Why is the sky blue?", "How long do eggs boil?", "What is a tide?"]
ANSWERS = ["Rayleigh scattering of sunlight.", "About seven minutes.", "The rise and fall of the sea."]


def write_new_formats(data_dir):
    (data_dir / "raw" / "json").mkdir(parents=True)
    (data_dir / "raw" / "json" / "alpaca_en_demo.json").write_text(json.dumps(ALPACA, indent=2))
    (data_dir / "raw" / "parquet" / "qa").mkdir(parents=True)
    table = pa.table({"question": QUESTIONS, "answer": ANSWERS, "image": pa.array([b"\x00"] * 3, type=pa.binary())})
    pq.write_table(table, data_dir / "raw" / "parquet" / "qa" / "train-00000-of-00001.parquet")
    (data_dir / "raw" / "parquet" / "broken.parquet").write_text("not parquet at all")


def materialize(data_dir, config=None):
    return dg.materialize(
        [plaintext],
        resources=local_resources(data_dir),
        run_config=dg.RunConfig(ops={"plaintext": {"config": config or {}}}),
    )


def test_json_and_parquet_files_materialize_with_their_counts(tmp_path):
    data_dir = tmp_path / "data"
    write_new_formats(data_dir)
    result = materialize(data_dir)
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    assert (metadata["records_in"], metadata["records_kept"], metadata["records_rejected"]) == (7, 5, 2)
    assert metadata["files_parsed"] == 3
    assert "| json | 2 |" in metadata["records_by_format"] and "| parquet | 3 |" in metadata["records_by_format"]
    assert "| bad_json_item | 1 |" in metadata["rejected_by_reason"]
    assert "| unreadable_file | 1 |" in metadata["rejected_by_reason"]
    records = datasets.load_from_disk(str(data_dir / "plaintext"))
    assert records["source"] == [
        "json/alpaca_en_demo.json item 1",
        "json/alpaca_en_demo.json item 2",
        *(f"parquet/qa/train-00000-of-00001.parquet row {n}" for n in (1, 2, 3)),
    ]
    assert records["output"][2:] == ANSWERS and records["format"] == ["json"] * 2 + ["parquet"] * 3
    rejected = datasets.load_from_disk(str(data_dir / "rejected" / "plaintext"))
    assert sorted(zip(rejected["reason"], rejected["source"], strict=True)) == [
        ("bad_json_item", "json/alpaca_en_demo.json item 3"),
        ("unreadable_file", "parquet/broken.parquet"),
    ]

    # Per-format settings: a parquet mapping reparses the parquet files only.
    again = materialize(data_dir, {"parquet": {"columns": {"text": ["question"]}}})
    [event] = again.get_asset_materialization_events()
    assert event.materialization.metadata["files_parsed"].value == 2
    assert datasets.load_from_disk(str(data_dir / "plaintext"))["text"][2:] == QUESTIONS


def test_the_raw_sources_and_the_sensor_cover_the_new_folders(tmp_path):
    write_new_formats(tmp_path)
    assert {"raw_json", "raw_parquet"} <= {source.key.to_user_string() for source in raw_sources}
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"data_dir": DataDirResource(path=str(tmp_path))}
    )
    first = raw_data_sensor(context)
    assert set(json.loads(first.cursor)) == {
        "json/alpaca_en_demo.json",
        "parquet/broken.parquet",
        "parquet/qa/train-00000-of-00001.parquet",
    }


@pytest.mark.parametrize(
    "config",
    [
        {"html": {"mode": "MAIN"}},  # choices are case-sensitive enums
        {"html_mode": "full"},  # the flat keys of before are unknown now
        {"csv": {"columns": {"text": "body"}}},  # a list of columns, not one
    ],
)
def test_a_bad_config_is_refused_before_the_run(tmp_path, config):
    run_config = {"ops": {"plaintext": {"config": config}}}
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(defs.resolve_job_def("prepare_dataset"), run_config)
    with pytest.raises(dg.DagsterInvalidConfigError):
        materialize(tmp_path / "data", config)
    assert not (tmp_path / "data" / "plaintext").exists()  # nothing ran
