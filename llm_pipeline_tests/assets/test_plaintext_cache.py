"""Per-file incremental parsing: only new or changed raw files are parsed again, and the stage
output is the same as a parse of everything from scratch."""

import shutil
from pathlib import Path

import dagster as dg
import datasets

from llm_pipeline.stages.plaintext.cache import ParsedFileCache
from llm_pipeline.stages.plaintext.formats import csv, html
from llm_pipeline.stages.plaintext.settings import PlaintextSettings
from llm_pipeline_tests.support.dagster_resources import local_resources
from llm_pipeline_tests.support.stage_assets import stage_asset

plaintext = stage_asset("plaintext")


def run_plaintext(data_dir: Path, config: dict | None = None) -> dict:
    result = dg.materialize(
        [plaintext],
        resources=local_resources(data_dir),
        run_config=dg.RunConfig(ops={"plaintext": {"config": config or {}}}),
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    return {key: value.value for key, value in event.materialization.metadata.items()}


def stage_rows(data_dir: Path, stage: str = "plaintext") -> list[dict]:
    return list(datasets.load_from_disk(str(data_dir / stage)))


def from_scratch(data_dir: Path, tmp_path: Path) -> tuple[list[dict], list[dict]]:
    """The stage and its quarantine when every file is parsed anew, in a copy without the cache."""
    fresh = tmp_path / "fresh"
    shutil.copytree(data_dir / "raw", fresh / "raw")
    metadata = run_plaintext(fresh)
    assert metadata["files_from_cache"] == 0
    return stage_rows(fresh), stage_rows(fresh, "rejected/plaintext")


def test_only_the_changed_file_is_parsed_and_the_output_matches_a_full_parse(raw_data_dir, tmp_path):
    first = run_plaintext(raw_data_dir)
    files = first["files_parsed"]
    assert files == 7 and first["files_from_cache"] == 0

    unchanged = run_plaintext(raw_data_dir)
    assert (unchanged["files_parsed"], unchanged["files_from_cache"]) == (0, files)
    assert "every file was unchanged" in unchanged["files_parsed_list"]

    qa = raw_data_dir / "raw" / "jsonl" / "qa.jsonl"
    qa.write_text(
        qa.read_text() + '{"input": "How long does bread keep?", "output": "Two to three days in a paper bag."}\n'
    )
    changed = run_plaintext(raw_data_dir)
    assert (changed["files_parsed"], changed["files_from_cache"]) == (1, files - 1)
    assert "jsonl/qa.jsonl" in changed["files_parsed_list"]
    assert changed["records_in"] == first["records_in"] + 1

    records, rejections = from_scratch(raw_data_dir, tmp_path)
    assert stage_rows(raw_data_dir) == records  # same records, same order (dedup keeps the first)
    assert stage_rows(raw_data_dir, "rejected/plaintext") == rejections


def test_added_and_removed_files_and_the_cache_keeps_only_what_is_in_use(raw_data_dir, tmp_path):
    run_plaintext(raw_data_dir)
    (raw_data_dir / "raw" / "jsonl" / "more.jsonl").write_text(
        '{"text": "Water the seedlings in the morning, not at noon."}\n'
    )
    added = run_plaintext(raw_data_dir)
    assert added["files_parsed"] == 1 and added["cache_entries_removed"] == 0

    (raw_data_dir / "raw" / "csv" / "faq.csv").unlink()
    removed = run_plaintext(raw_data_dir)
    assert removed["files_parsed"] == 0 and removed["cache_entries_removed"] == 1
    assert not any(row["source"].startswith("csv/faq.csv") for row in stage_rows(raw_data_dir))
    entries = [entry for entry in (raw_data_dir / "cache" / "plaintext").glob("*/*")]
    assert len(entries) == removed["files_from_cache"]

    records, rejections = from_scratch(raw_data_dir, tmp_path)
    assert stage_rows(raw_data_dir) == records
    assert stage_rows(raw_data_dir, "rejected/plaintext") == rejections


def test_a_changed_setting_reparses_only_the_files_of_its_format(raw_data_dir):
    run_plaintext(raw_data_dir)
    metadata = run_plaintext(raw_data_dir, {"html": {"mode": "full"}})
    assert metadata["files_parsed"] == 3  # the three files under raw/html
    parsed = metadata["files_parsed_list"]
    assert "html/article.html" in parsed and "csv/" not in parsed and "jsonl/" not in parsed
    text = next(row["text"] for row in stage_rows(raw_data_dir) if row["source"] == "html/article.html")
    assert "Copyright Garden Weekly" in text  # `full` keeps the footer that `main` leaves out


def test_a_damaged_cache_entry_is_parsed_again_not_trusted(raw_data_dir, tmp_path):
    run_plaintext(raw_data_dir)
    for records_file in (raw_data_dir / "cache" / "plaintext").glob("*/*/records.arrow"):
        records_file.write_bytes(records_file.read_bytes()[:40])  # a torn write from outside
    metadata = run_plaintext(raw_data_dir)
    assert metadata["files_from_cache"] == 0 and metadata["files_parsed"] == 7
    records, _ = from_scratch(raw_data_dir, tmp_path)
    assert stage_rows(raw_data_dir) == records


def test_the_key_covers_name_content_and_the_settings_of_the_format(tmp_path):
    cache = ParsedFileCache(tmp_path, PlaintextSettings())
    key = cache.key("csv/a.csv", "csv", "0" * 64)
    assert key == ParsedFileCache(tmp_path, PlaintextSettings()).key("csv/a.csv", "csv", "0" * 64)
    assert key != cache.key("csv/b.csv", "csv", "0" * 64)  # records name their file in `source`
    assert key != cache.key("csv/a.csv", "csv", "1" * 64)
    assert key != ParsedFileCache(tmp_path, PlaintextSettings(csv=csv.Settings(delimiter=";"))).key(
        "csv/a.csv", "csv", "0" * 64
    )
    # A setting of another format leaves the key alone, so those files stay cached.
    assert key == ParsedFileCache(tmp_path, PlaintextSettings(html=html.Settings(mode="full"))).key(
        "csv/a.csv", "csv", "0" * 64
    )
