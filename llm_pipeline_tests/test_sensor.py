"""The raw-data sensor requests a run when a raw file is added, changed or removed."""

import dagster as dg

from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.sensors import raw_data_sensor


def evaluate(data_dir, cursor=None, instance=None):
    context = dg.build_sensor_context(
        cursor=cursor,
        instance=instance or dg.DagsterInstance.ephemeral(),
        resources={"data_dir": DataDirResource(path=str(data_dir))},
    )
    return raw_data_sensor(context)


def test_changes_under_raw_request_a_run(tmp_path):
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    notes = tmp_path / "raw" / "jsonl" / "notes.jsonl"
    notes.write_text('{"text": "first"}\n')

    first = evaluate(tmp_path)  # nothing built yet: the first look asks for a run
    assert len(first.run_requests) == 1
    assert [event.asset_key.to_user_string() for event in first.asset_events] == ["raw_jsonl"]

    unchanged = evaluate(tmp_path, cursor=first.cursor)
    assert isinstance(unchanged, dg.SkipReason)

    notes.write_text('{"text": "edited"}\n')
    changed = evaluate(tmp_path, cursor=first.cursor)
    assert len(changed.run_requests) == 1 and changed.run_requests[0].run_key != first.run_requests[0].run_key
    assert "1 changed" in changed.run_requests[0].tags["llm_pipeline/raw_changes"]

    (tmp_path / "raw" / "html").mkdir()
    (tmp_path / "raw" / "html" / "page.html").write_text("<p>new</p>")
    added = evaluate(tmp_path, cursor=changed.cursor)
    assert "1 added" in added.run_requests[0].tags["llm_pipeline/raw_changes"]
    assert [event.asset_key.to_user_string() for event in added.asset_events] == ["raw_html"]

    notes.unlink()
    removed = evaluate(tmp_path, cursor=added.cursor)
    assert "1 removed" in removed.run_requests[0].tags["llm_pipeline/raw_changes"]


def test_first_look_at_an_already_built_pipeline_only_records_the_files(tmp_path):
    (tmp_path / "raw" / "csv").mkdir(parents=True)
    (tmp_path / "raw" / "csv" / "a.csv").write_text("text\nhello there\n")
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization("plaintext"))
    result = evaluate(tmp_path, instance=instance)
    assert not result.run_requests and result.cursor
    assert isinstance(evaluate(tmp_path, cursor=result.cursor, instance=instance), dg.SkipReason)
