"""The tokenized asset: its data version covers split, tokenizer and config; unchanged inputs are not rebuilt."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import datasets
import pytest

from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.stages.base_model.tiny import build_tiny_base_model
from llm_pipeline.token_rows import DATA_VERSION_FILE
from llm_pipeline_tests.support.stage_assets import stage_asset
from llm_pipeline_tests.support.tiny import tiny_splits

tokenized = stage_asset("tokenized")


def run(data_dir: Path, **config) -> dict:
    result = dg.materialize(
        [tokenized],
        resources={"data_dir": DataDirResource(path=str(data_dir))},
        run_config=dg.RunConfig(ops={"tokenized": {"config": config}}),
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    assert event.materialization.tags["dagster/data_version"] == metadata["data_version"]
    return metadata


def data_file(data_dir: Path) -> Path:
    return next((data_dir / "tokenized" / "train").glob("data-*.arrow"))


def test_data_version_follows_split_tokenizer_and_config(tiny_model_dir, tmp_path):
    data_dir = tmp_path / "data"
    tiny_splits().save_to_disk(str(data_dir / "splits"))
    write_model_ref(data_dir / "models", str(tiny_model_dir), origin="test")

    first = run(data_dir, max_length=64)
    assert not first["reused"] and first["packing"]
    assert first["rows"] < first["records_kept"]  # packed
    assert "| train |" in first["token_stats"] and "<= 64" in first["length_histogram"]
    assert (data_dir / "tokenized" / DATA_VERSION_FILE).read_text().strip() == first["data_version"]
    written = data_file(data_dir).stat().st_ino

    again = run(data_dir, max_length=64)
    assert again["reused"] and again["data_version"] == first["data_version"]
    assert again["token_stats"] == first["token_stats"]
    assert data_file(data_dir).stat().st_ino == written  # not rewritten

    other_config = run(data_dir, max_length=48)
    assert not other_config["reused"] and other_config["data_version"] != first["data_version"]

    other_model = build_tiny_base_model(
        ["other words entirely, for another vocabulary"] * 4, tmp_path / "other", vocab_size=300
    )
    write_model_ref(data_dir / "models", str(other_model), origin="test")
    other_tokenizer = run(data_dir, max_length=48)
    assert not other_tokenizer["reused"] and other_tokenizer["data_version"] != other_config["data_version"]

    splits = datasets.load_from_disk(str(data_dir / "splits"))
    smaller = datasets.DatasetDict({"train": splits["train"].select(range(10)), "validation": splits["validation"]})
    smaller.save_to_disk(str(tmp_path / "smaller"))
    for name in ("train", "validation"):  # replace the split's files the way a new materialization does
        target = data_dir / "splits" / name
        for file in target.iterdir():
            file.unlink()
        for file in (tmp_path / "smaller" / name).iterdir():
            file.rename(target / file.name)
    other_split = run(data_dir, max_length=48)
    assert not other_split["reused"] and other_split["data_version"] != other_tokenizer["data_version"]
    assert other_split["records_in"] == 10 + len(splits["validation"])


def test_records_dropped_for_length_are_quarantined_and_balance(tiny_model_dir, tmp_path):
    data_dir = tmp_path / "data"
    tiny_splits().save_to_disk(str(data_dir / "splits"))
    write_model_ref(data_dir / "models", str(tiny_model_dir), origin="test")
    metadata = run(data_dir, max_length=24, packing=False, overlength="drop")
    assert metadata["records_dropped"] > 0
    assert metadata["records_in"] == metadata["records_kept"] + metadata["records_dropped"]
    quarantine = datasets.load_from_disk(str(data_dir / "rejected" / "tokenized"))
    assert len(quarantine) == metadata["records_dropped"]
    assert set(quarantine["reason"]) <= {"record_over_max_length", "prompt_fills_max_length"}
    assert all(source.startswith("tiny") for source in quarantine["source"])


def test_an_unknown_overlength_policy_is_refused_by_config_validation_before_the_run(tmp_path):
    with pytest.raises(dg.DagsterInvalidConfigError, match="overlength") as refused:
        dg.materialize(
            [tokenized],
            resources={"data_dir": DataDirResource(path=str(tmp_path))},
            run_config=dg.RunConfig(ops={"tokenized": {"config": {"overlength": "chop"}}}),
        )
    assert "truncate" in str(refused.value) and "drop" in str(refused.value)  # the choices are named
    assert not (tmp_path / "tokenized").exists()
