"""Stage outputs are written atomically and read back as records."""

import pytest

from llm_pipeline.records import Record, Rejection
from llm_pipeline.storage.atomic import OWNER_MARKER, ForeignFolderError, atomic_dir
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import iter_records, load_records, save_records, save_rejections


def test_records_round_trip_and_empty_stage(tmp_path):
    records = [Record.unsupervised(f"text {index}", f"f line {index}", "jsonl") for index in range(3)]
    assert save_records(iter(records), tmp_path / "stage") == 3
    assert list(iter_records(load_records(tmp_path / "stage"))) == records
    assert save_rejections(iter([]), tmp_path / "rejected") == 0
    assert len(load_records(tmp_path / "rejected")) == 0
    rejection = Rejection(stage="plaintext", reason="not_html", source="html/logo.html")
    assert save_rejections([rejection], tmp_path / "rejected") == 1
    assert load_records(tmp_path / "rejected")[0]["reason"] == "not_html"


def test_a_failed_write_leaves_the_previous_output_in_place(tmp_path):
    target = tmp_path / "stage"
    save_records(iter([Record.unsupervised("old", "s", "jsonl")]), target)
    with pytest.raises(RuntimeError), atomic_dir(target) as staging:
        (staging / "half-written").write_text("x")
        raise RuntimeError("killed mid-write")
    assert [record.text for record in iter_records(load_records(target))] == ["old"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["stage"]


def test_missing_stage_names_the_asset_to_build(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialize the upstream asset"):
        load_records(tmp_path / "plaintext")


def test_configured_paths_cannot_leave_the_data_directory(tmp_path):
    layout = DataLayout(tmp_path)
    assert layout.inside("raw/html") == (tmp_path / "raw" / "html").resolve()
    with pytest.raises(ValueError, match="leaves the data directory"):
        layout.inside("../../etc")


def test_a_folder_this_project_did_not_write_is_never_replaced(tmp_path):
    own = tmp_path / "plaintext"
    own.mkdir()
    (own / "chapter1.txt").write_text("a user's own file, in the place where a stage would write")
    with pytest.raises(ForeignFolderError, match="was not written by llm_pipeline"):
        with atomic_dir(own) as staging:
            (staging / "data.arrow").write_text("new output")
    assert [path.name for path in own.iterdir()] == ["chapter1.txt"]

    earlier = tmp_path / "filtered"  # an output from before outputs were marked: a datasets save
    earlier.mkdir()
    (earlier / "state.json").write_text("{}")
    with atomic_dir(earlier) as staging:
        (staging / "data.arrow").write_text("new output")
    assert sorted(path.name for path in earlier.iterdir()) == [OWNER_MARKER, "data.arrow"]
    with atomic_dir(earlier) as staging:  # marked now: replaced again
        (staging / "data.arrow").write_text("newer output")
    assert (earlier / "data.arrow").read_text() == "newer output"
