"""The project file drives the definitions: launchpad defaults, code versions, and what automation
rebuilds after one setting changes."""

import textwrap

import dagster as dg
import pytest

from llm_pipeline.definitions import build_definitions
from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP
from llm_pipeline.defs.project import PROJECT_FILE_ENV, load_project
from llm_pipeline.stages.filtered.settings import FilterSettings

NOT_TRAINING = dg.AssetSelection.all() - dg.AssetSelection.groups(TRAINING_GROUP)


def definitions_of(tmp_path, data_dir, extra: str = "", name: str = "project.yaml") -> dg.Definitions:
    path = tmp_path / name
    path.write_text(
        textwrap.dedent(
            f"""
            data_dir: {data_dir}
            splits: {{validation_ratio: 0.25}}
            base_model: {{tiny_vocab_size: 512}}
            tokenized: {{max_length: 96}}
            """
        )
        + textwrap.dedent(extra)
    )
    return build_definitions(load_project({PROJECT_FILE_ENV: str(path)}))


def materialize(defs: dg.Definitions, keys, instance) -> dg.ExecuteInProcessResult:
    """The assets `keys` and their checks, with the definitions' own resources (data dir from the file)."""
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, asset_selection=sorted(keys))
    assert result.success
    return result


def materializations(instance: dg.DagsterInstance, name: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(name), limit=100).records)


def test_one_changed_filter_setting_rebuilds_filtered_and_what_is_below_it_not_plaintext(
    raw_data_dir, tmp_path, monkeypatch
):
    monkeypatch.delenv("LLM_PIPELINE_DATA_DIR", raising=False)
    before = definitions_of(tmp_path, raw_data_dir, name="before.yaml")
    after = definitions_of(tmp_path, raw_data_dir, "filtered: {quality: {min_words_text: 4}}\n", name="after.yaml")
    graph_before, graph_after = before.resolve_asset_graph(), after.resolve_asset_graph()
    changed = {
        key.to_user_string()
        for key in graph_after.get_all_asset_keys()
        if graph_after.get(key).code_version != graph_before.get(key).code_version
    }
    assert changed == {"filtered"}  # the code version carries the stage's own settings, and only those

    with dg.instance_for_test() as instance:
        built = NOT_TRAINING.resolve(graph_before) - {
            key for key in graph_before.get_all_asset_keys() if key.path[0].startswith("raw_")
        }
        materialize(before, built, instance)
        first = dg.evaluate_automation_conditions(before, instance, asset_selection=NOT_TRAINING)
        assert (
            not first.get_requested_asset_keys()
            if hasattr(first, "get_requested_asset_keys")
            else first.total_requested == 0
        )

        # The file is edited and the code location reloaded: the next tick sees the new code version.
        second = dg.evaluate_automation_conditions(after, instance, asset_selection=NOT_TRAINING, cursor=first.cursor)
        requested = {key for key in built if second.get_num_requested(key)}
        assert {key.to_user_string() for key in requested} == {
            "filtered",
            "clustered",
            "splits",
            "base_model",
            "tokenized",
        }
        materialize(after, requested, instance)

        counts = {name: materializations(instance, name) for name in ("plaintext", "filtered", "splits", "tokenized")}
        assert counts == {"plaintext": 1, "filtered": 2, "splits": 2, "tokenized": 2}
        latest = instance.get_latest_materialization_event(dg.AssetKey("filtered")).asset_materialization
        assert latest.tags["dagster/code_version"] == graph_after.get(dg.AssetKey("filtered")).code_version


def test_the_launchpad_defaults_are_the_project_files_and_a_bad_choice_is_refused_before_any_step(
    tmp_path, raw_data_dir
):
    defs = definitions_of(
        tmp_path,
        raw_data_dir,
        """
        filtered: {language: {languages: [en, de]}}
        checkpoint: {method: lora, learning_rate: 1.0e-4}
        """,
    )
    job = defs.resolve_job_def("fine_tune")
    resolved = dg.validate_run_config(job, {})["ops"]
    assert resolved["filtered"]["config"]["language"]["languages"] == ["en", "de"]
    # Nested keys the file leaves out keep their defaults.
    assert resolved["filtered"]["config"]["quality"]["min_words_text"] == FilterSettings().quality.min_words_text
    assert resolved["checkpoint"]["config"]["method"] == "lora"
    assert resolved["checkpoint"]["config"]["learning_rate"] == pytest.approx(1e-4)

    with pytest.raises(dg.DagsterInvalidConfigError) as refused:
        dg.validate_run_config(job, {"ops": {"checkpoint": {"config": {"method": "QLoRA"}}}})
    assert "method" in str(refused.value) and "QLoRA" in str(refused.value)
    with dg.instance_for_test() as instance, pytest.raises(dg.DagsterInvalidConfigError):
        job.execute_in_process(run_config={"ops": {"checkpoint": {"config": {"method": "QLoRA"}}}}, instance=instance)
        assert not instance.get_runs()  # refused before a run was even created: nothing to retry
