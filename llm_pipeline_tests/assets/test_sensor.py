"""The raw-data sensor records a new data version when a raw file is added, changed or removed."""

import dagster as dg

from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.sensors import DATA_VERSION_TAG, raw_data_sensor


def evaluate(data_dir, cursor=None, instance=None):
    context = dg.build_sensor_context(
        cursor=cursor,
        instance=instance or dg.DagsterInstance.ephemeral(),
        resources={"data_dir": DataDirResource(path=str(data_dir))},
    )
    return raw_data_sensor(context)


def versions(result) -> dict[str, str]:
    return {event.asset_key.to_user_string(): event.tags[DATA_VERSION_TAG] for event in result.asset_events}


def test_first_look_with_nothing_built_requests_one_run(tmp_path):
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    (tmp_path / "raw" / "jsonl" / "notes.jsonl").write_text('{"text": "first"}\n')
    first = evaluate(tmp_path)
    assert len(first.run_requests) == 1 and not first.asset_events
    assert raw_data_sensor.job_name == "fine_tune"
    assert isinstance(evaluate(tmp_path, cursor=first.cursor), dg.SkipReason)


def test_changes_under_raw_record_new_data_versions(tmp_path):
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    notes = tmp_path / "raw" / "jsonl" / "notes.jsonl"
    notes.write_text('{"text": "first"}\n')
    first = evaluate(tmp_path)

    notes.write_text('{"text": "edited"}\n')
    changed = evaluate(tmp_path, cursor=first.cursor)
    assert not changed.run_requests  # the automation conditions decide what to rebuild
    assert set(versions(changed)) == {"raw_html", "raw_csv", "raw_sql", "raw_jsonl", "raw_json", "raw_parquet"}
    jsonl_event = next(event for event in changed.asset_events if event.asset_key.to_user_string() == "raw_jsonl")
    assert jsonl_event.metadata["changes"].value["changed"] == ["jsonl/notes.jsonl"]

    (tmp_path / "raw" / "html").mkdir()
    (tmp_path / "raw" / "html" / "page.html").write_text("<p>new</p>")
    added = evaluate(tmp_path, cursor=changed.cursor)
    moved = {key for key in versions(added) if versions(added)[key] != versions(changed)[key]}
    assert moved == {"raw_html"}  # an untouched folder keeps its data version

    notes.unlink()
    removed = evaluate(tmp_path, cursor=added.cursor)
    assert versions(removed)["raw_jsonl"] != versions(added)["raw_jsonl"]
    assert isinstance(evaluate(tmp_path, cursor=removed.cursor), dg.SkipReason)


def test_first_look_at_an_already_built_pipeline_only_records_the_files(tmp_path):
    (tmp_path / "raw" / "csv").mkdir(parents=True)
    (tmp_path / "raw" / "csv" / "a.csv").write_text("text\nhello there\n")
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization("plaintext"))
    result = evaluate(tmp_path, instance=instance)
    assert not result.run_requests and not result.asset_events and result.cursor
    assert isinstance(evaluate(tmp_path, cursor=result.cursor, instance=instance), dg.SkipReason)


def test_an_empty_data_directory_starts_no_run_and_says_why(tmp_path):
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    (tmp_path / "raw" / "jsonl" / ".gitkeep").write_text("")
    skipped = evaluate(tmp_path)
    assert isinstance(skipped, dg.SkipReason) and "no raw files yet" in skipped.skip_message
    (tmp_path / "raw" / "jsonl" / "notes.jsonl").write_text('{"text": "first"}\n')
    assert len(evaluate(tmp_path).run_requests) == 1  # the first file starts the first run


def test_file_names_that_are_not_utf8_and_links_out_of_the_data_directory_do_not_stop_the_sensor(tmp_path):
    data = tmp_path / "data"
    (data / "raw" / "jsonl").mkdir(parents=True)
    with open(bytes(data / "raw" / "jsonl") + b"/r\xe9colte.jsonl", "w") as handle:
        handle.write('{"text": "harvest"}\n')
    (tmp_path / "private.jsonl").write_text('{"text": "outside"}\n')
    (data / "raw" / "jsonl" / "link.jsonl").symlink_to(tmp_path / "private.jsonl")
    first = evaluate(data)
    assert len(first.run_requests) == 1
    (tmp_path / "private.jsonl").write_text('{"text": "changed outside"}\n')  # never read, so no change
    assert isinstance(evaluate(data, cursor=first.cursor), dg.SkipReason)
