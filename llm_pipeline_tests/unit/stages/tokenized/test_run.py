"""The tokenized stage's run: output kept when its inputs are unchanged, encodings reused, drops quarantined."""

import shutil

import datasets
import pytest

from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.stages.tokenized.run import REPORT_FILE, EmptyTokenizedError, run
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.token_rows import DATA_VERSION_FILE
from llm_pipeline_tests.support.tiny import tiny_splits


@pytest.fixture
def layout(tmp_path, tiny_model_dir) -> DataLayout:
    layout = DataLayout(tmp_path / "data")
    tiny_splits().save_to_disk(str(layout.stage("splits")))
    write_model_ref(layout.models, str(tiny_model_dir), origin="test")
    return layout


def test_a_second_run_with_the_same_inputs_reuses_the_output(layout):
    settings = TokenizeSettings(max_length=64)
    first = run(layout, settings)
    records = len(tiny_splits()["train"]) + len(tiny_splits()["validation"])
    assert not first.reused and first.records_encoded == records and first.encodings_from_cache == 0
    assert first.records_in == records and first.kept + sum(first.dropped_by_reason.values()) == records
    assert (layout.stage("tokenized") / DATA_VERSION_FILE).read_text().strip() == first.data_version
    saved = datasets.load_from_disk(str(layout.stage("tokenized")))
    assert sum(len(split) for split in saved.values()) == first.rows
    written = (layout.stage("tokenized") / REPORT_FILE).stat().st_mtime_ns

    messages = []
    again = run(layout, settings, log=messages.append)
    assert again.reused and again.data_version == first.data_version and again.records_encoded == 0
    assert again.report == first.report and again.rows == first.rows
    assert (layout.stage("tokenized") / REPORT_FILE).stat().st_mtime_ns == written
    assert any("unchanged" in message for message in messages)

    other = run(layout, TokenizeSettings(max_length=48))
    assert not other.reused and other.data_version != first.data_version


def test_a_rebuild_reads_unchanged_records_from_the_encoding_cache(layout):
    settings = TokenizeSettings(max_length=64)
    first = run(layout, settings)
    shutil.rmtree(layout.stage("tokenized"))  # the output gone, the encoding cache kept
    rebuilt = run(layout, settings)
    assert not rebuilt.reused and rebuilt.records_encoded == 0
    assert rebuilt.encodings_from_cache == first.records_encoded and rebuilt.report == first.report


def test_records_dropped_for_length_are_quarantined(layout):
    result = run(layout, TokenizeSettings(max_length=24, packing=False, overlength="drop"))
    quarantine = datasets.load_from_disk(str(layout.rejected("tokenized")))
    assert len(quarantine) == result.records_in - result.kept == sum(result.dropped_by_reason.values()) > 0
    assert set(quarantine["reason"]) == set(result.dropped_by_reason)
    assert all(detail.startswith("split ") for detail in quarantine["detail"])


def test_an_unknown_overlength_policy_is_refused():
    with pytest.raises(ValueError, match="overlength must be one of truncate, drop"):
        TokenizeSettings(overlength="chop")


def test_tokenizing_logs_records_done_of_each_split_with_percent_and_eta(layout, tiny_model_dir, monkeypatch):
    from transformers import AutoTokenizer

    import llm_pipeline.stages.tokenized.run as tokenized_run

    settings = TokenizeSettings(max_length=64)
    in_one_chunk, _ = tokenized_run.tokenize_splits(
        tiny_splits(), AutoTokenizer.from_pretrained(tiny_model_dir), settings
    )

    # Small chunks, so that the tiny splits log several lines as a big corpus would.
    monkeypatch.setattr(tokenized_run, "FIRST_CHUNK_RECORDS", 5)
    monkeypatch.setattr(tokenized_run, "PROGRESS_INTERVAL_S", 0.0)
    messages = []
    result = run(layout, settings, log=messages.append)

    for name, split in tiny_splits().items():
        total = len(split)
        lines = [message for message in messages if message.startswith(f"tokenize {name}: encoded ")]
        done = [int(line.split("encoded ")[1].split(" of ")[0]) for line in lines]
        assert len(lines) > 1 and done == sorted(done) and done[0] == 5, lines
        assert all(f" of {total} records (" in line and "records/s" in line and "ETA " in line for line in lines)
        assert lines[-1].startswith(f"tokenize {name}: encoded {total} of {total} records (100%)")
        assert len(lines) <= tokenized_run.PROGRESS_LINES_PER_SPLIT + 1
    saved = datasets.load_from_disk(str(layout.stage("tokenized")))
    for name in in_one_chunk:  # encoding in chunks changes nothing in the rows
        assert saved[name].to_list() == in_one_chunk[name].to_list()
    assert result.records_in == sum(len(split) for split in tiny_splits().values())


def test_records_read_from_the_encoding_cache_count_as_done(layout):
    settings = TokenizeSettings(max_length=64)
    run(layout, settings)
    shutil.rmtree(layout.stage("tokenized"))  # encodings cached, output gone
    messages = []
    run(layout, settings, log=messages.append)
    total = len(tiny_splits()["train"])
    assert any(message.startswith(f"tokenize train: encoded {total} of {total} records (100%)") for message in messages)


def test_a_run_that_keeps_no_row_of_a_split_fails_and_leaves_the_previous_output(layout):
    good = run(layout, TokenizeSettings(max_length=64))
    with pytest.raises(
        EmptyTokenizedError,
        match=r"no row left in the train and validation split after tokenization \(\d+ record_over_max_length",
    ) as error:
        run(layout, TokenizeSettings(max_length=2, packing=False, overlength="drop"))
    assert "the previous output" in str(error.value)
    assert (layout.stage("tokenized") / DATA_VERSION_FILE).read_text().strip() == good.data_version
    saved = datasets.load_from_disk(str(layout.stage("tokenized")))
    assert sum(len(split) for split in saved.values()) == good.rows
