"""Declarative automation: a raw change rebuilds the dataset, and the checkpoint follows only when
every blocking check upstream of it passed.

The instance's history (materializations, check results, raw observations) is written with
`report_runless_asset_event`, then the real definitions' conditions are evaluated tick by tick
with `dg.evaluate_automation_conditions`, once per automation sensor, as the daemon would.
"""

import uuid

import dagster as dg
from dagster._core.definitions.data_version import (
    DATA_VERSION_TAG,  # the tag a materialization's data version travels in
)

from llm_pipeline.definitions import defs
from llm_pipeline.defs.automation import dataset_automation_sensor, training_automation_sensor
from llm_pipeline.defs.jobs import GPU_RUN_TAG
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.sensors import raw_data_sensor

SENSORS = {"dataset": dataset_automation_sensor, "training": training_automation_sensor}


def targets(sensor: str) -> list[str]:
    return sorted(
        key.to_user_string() for key in SENSORS[sensor].asset_selection.resolve(defs.get_repository_def().asset_graph)
    )


# The dataset and model stages, and the checkpoint with whatever is built from it (a merged model).
DATASET_ASSETS, TRAINING_ASSETS = targets("dataset"), set(targets("training"))


class Daemon:
    """Evaluates each automation sensor's targets against one instance, keeping their cursors."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.cursors: dict[str, object] = {}

    def tick(self, sensor: str) -> set[str]:
        result = dg.evaluate_automation_conditions(
            defs=defs,
            instance=self.instance,
            asset_selection=SENSORS[sensor].asset_selection,
            cursor=self.cursors.get(sensor),
        )
        self.cursors[sensor] = result.cursor
        graph = defs.get_repository_def().asset_graph
        return {key.to_user_string() for key in graph.get_all_asset_keys() if result.get_num_requested(key)}


def blocking_checks(asset: str) -> list[str]:
    graph = defs.get_repository_def().asset_graph
    return sorted(
        key.name
        for key in graph.asset_check_keys
        if key.asset_key.to_user_string() == asset and graph.get_check_spec(key).blocking
    )


def report_built(
    instance: dg.DagsterInstance,
    assets: list[str],
    failing: set[str] = frozenset(),
    versions: dict[str, str] | None = None,
) -> None:
    """Record that a run built these assets and ran their blocking checks (all pass but `failing`).

    Each materialization carries a new data version unless `versions` names the one it had.
    """
    for asset in assets:
        version = (versions or {}).get(asset) or uuid.uuid4().hex
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, tags={DATA_VERSION_TAG: version}))
        for check in blocking_checks(asset):
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(dg.AssetKey(asset), check, passed=check not in failing)
            )


class RawFolder:
    """Raw files under a data directory, watched by the real raw-data sensor."""

    def __init__(self, instance: dg.DagsterInstance, data_dir) -> None:
        self.instance, self.data_dir, self.cursor = instance, data_dir, None

    def edit(self, text: str) -> None:
        """Edit a raw file, evaluate the sensor and store its observations, as the daemon would."""
        (self.data_dir / "raw" / "jsonl").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "raw" / "jsonl" / "notes.jsonl").write_text(f'{{"text": "{text}"}}\n')
        context = dg.build_sensor_context(
            cursor=self.cursor, instance=self.instance, resources={"data_dir": DataDirResource(path=str(self.data_dir))}
        )
        result = raw_data_sensor(context)
        self.cursor = result.cursor
        for event in result.asset_events:
            self.instance.report_runless_asset_event(event)


def test_every_stage_is_automated_and_the_sensors_run_by_default():
    repository = defs.get_repository_def()
    assert {"plaintext", "filtered", "clustered", "splits", "base_model", "tokenized"} <= set(DATASET_ASSETS)
    for asset in [*DATASET_ASSETS, *TRAINING_ASSETS]:
        assert defs.resolve_assets_def(asset).automation_conditions_by_key[dg.AssetKey(asset)] is not None
    for name in ("raw_data_sensor", "dataset_automation", "training_automation"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    assert training_automation_sensor.run_tags == GPU_RUN_TAG
    # Each automated asset is watched by exactly one automation sensor.
    keys = repository.asset_graph.get_all_asset_keys()
    dataset = dataset_automation_sensor.asset_selection.resolve(repository.asset_graph)
    training = training_automation_sensor.asset_selection.resolve(repository.asset_graph)
    assert not dataset & training
    assert "checkpoint" in TRAINING_ASSETS
    assert all(
        key in dataset | training for key in keys if defs.resolve_assets_def(key).automation_conditions_by_key.get(key)
    )


def test_a_raw_change_rebuilds_the_dataset_then_retrains(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    daemon = Daemon(instance)
    report_built(instance, [*DATASET_ASSETS, *sorted(TRAINING_ASSETS)])  # the raw sensor's first run, say
    assert daemon.tick("dataset") == set() and daemon.tick("training") == set()
    raw = RawFolder(instance, tmp_path)
    raw.edit("first version of the notes")  # the sensor's first look at built outputs: no event
    assert daemon.tick("dataset") == set()

    raw.edit("second version of the notes")
    assert daemon.tick("dataset") == set(DATASET_ASSETS)
    assert daemon.tick("training") == set()  # not before the dataset run has built and checked
    report_built(instance, DATASET_ASSETS)
    assert daemon.tick("training") == TRAINING_ASSETS
    assert daemon.tick("dataset") == set()  # handled: no second run for the same change
    report_built(instance, sorted(TRAINING_ASSETS))
    assert daemon.tick("training") == set()

    raw.edit("third version of the notes")
    assert daemon.tick("dataset") == set(DATASET_ASSETS)


def test_checkpoint_waits_while_a_blocking_check_upstream_failed(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    daemon = Daemon(instance)
    report_built(instance, [*DATASET_ASSETS, *sorted(TRAINING_ASSETS)])
    daemon.tick("dataset"), daemon.tick("training")

    # splits is rebuilt and its exact-leak check fails; base_model and tokenized are then rebuilt
    # anyway (by hand, say). The checkpoint sits two levels below the failure and must not follow.
    report_built(instance, ["plaintext", "filtered", "clustered", "splits"], failing={"splits_share_no_prompt"})
    assert "tokenized" not in daemon.tick("dataset")
    report_built(instance, ["base_model", "tokenized"])
    assert daemon.tick("training") == set()
    assert daemon.tick("training") == set()

    # The check passes on a re-run: the pending update is picked up.
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(dg.AssetKey("splits"), "splits_share_no_prompt", passed=True)
    )
    assert daemon.tick("training") == TRAINING_ASSETS


def test_a_failed_check_on_the_direct_parent_also_holds_the_checkpoint():
    instance = dg.DagsterInstance.ephemeral()
    daemon = Daemon(instance)
    report_built(instance, [*DATASET_ASSETS, *sorted(TRAINING_ASSETS)])
    daemon.tick("training")
    report_built(instance, ["tokenized"], failing={"tokenized_labels_valid"})
    assert daemon.tick("training") == set()
    report_built(instance, ["tokenized"])
    assert daemon.tick("training") == TRAINING_ASSETS


def test_the_checkpoint_follows_new_tokens_not_every_dataset_run():
    instance = dg.DagsterInstance.ephemeral()
    daemon = Daemon(instance)
    same = {"splits": "splits-v1", "tokenized": "tokens-v1", "base_model": "model-v1"}
    report_built(instance, [*DATASET_ASSETS, *sorted(TRAINING_ASSETS)], versions=same)  # a fine_tune run
    assert daemon.tick("dataset") == set() and daemon.tick("training") == set()

    # A dataset run whose change fell away (the edited record was filtered out): the splits are
    # byte-identical, so they, tokenized and base_model keep their data versions. No GPU run.
    report_built(instance, DATASET_ASSETS, versions=same)
    assert daemon.tick("training") == set()
    assert daemon.tick("training") == set()

    # New tokens: the checkpoint follows.
    report_built(instance, DATASET_ASSETS, versions={**same, "tokenized": "tokens-v2"})
    assert daemon.tick("training") == TRAINING_ASSETS
    report_built(instance, sorted(TRAINING_ASSETS))
    assert daemon.tick("training") == set()


def test_an_empty_data_directory_starts_nothing(tmp_path):
    # The sensor observes nothing there (it says why instead), so no condition has a raw change to act on.
    (tmp_path / "raw" / "jsonl").mkdir(parents=True)
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"data_dir": DataDirResource(path=str(tmp_path))}
    )
    assert isinstance(raw_data_sensor(context), dg.SkipReason)
    with dg.instance_for_test() as instance:
        daemon = Daemon(instance)
        assert [(daemon.tick("dataset"), daemon.tick("training")) for _ in range(3)] == [(set(), set())] * 3
