"""Declarative automation: every stage follows its upstream, and nothing is built, the GPU step
least of all, on top of an asset whose blocking check failed.

The raw-data sensor records a new data version of a raw folder when its files change; each
stage's `eager()` condition then requests it, and the automation sensors launch the runs. The
conditions are applied here, by mapping the assets' specs, so the asset files stay about what
each stage computes.
"""

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence

import dagster as dg

from llm_pipeline.defs.assets.checkpoint import TRAINING_GROUP
from llm_pipeline.defs.jobs import GPU_RUN_TAG
from llm_pipeline.environment import sensor_interval

AC = dg.AutomationCondition


def blocking_checks_passed(asset_keys: Iterable[dg.AssetKey]) -> dg.AutomationCondition:
    """True when every blocking check of every one of these assets passed on its latest evaluation.

    A check about to run in the same tick's run counts as passing: if it fails there, the run
    itself stops before the assets downstream of it.
    """
    passed = AC.all_checks_match(AC.check_passed() | AC.will_be_requested(), blocking_only=True)
    conditions = [AC.asset_matches(key, passed) for key in sorted(asset_keys)]
    condition = conditions[0]
    for other in conditions[1:]:
        condition = condition & other
    return condition.with_label("upstream blocking checks passed")


def ancestors(parents: dict[dg.AssetKey, set[dg.AssetKey]], key: dg.AssetKey) -> set[dg.AssetKey]:
    found: set[dg.AssetKey] = set()
    pending = list(parents.get(key, ()))
    while pending:
        parent = pending.pop()
        if parent not in found:
            found.add(parent)
            pending.extend(parents.get(parent, ()))
    return found


# Assets that follow their inputs' data versions rather than every materialization: a dataset
# run whose changes all fall away (a changed record filtered out, say) leaves `tokenized` and
# `base_model` with their data versions, and a GPU run would only retrain on the same tokens.
# The evaluation likewise: the same merged model on the same tokens scores the same.
FOLLOW_DATA_VERSIONS = {dg.AssetKey("checkpoint"), dg.AssetKey("evaluation")}


def eager(on_data_versions: bool = False) -> dg.AutomationCondition:
    """`AutomationCondition.eager()` (built when missing or when an input updates, never mid-run),
    also triggered by a new code version: the asset's code or its project-file settings changed
    (defs/stage_settings.py), so a one-setting edit rebuilds that stage and what is below it.

    `on_data_versions`: an input counts as changed only with a new data version, not with any
    new materialization, or when the same tick requests it (the evaluation runs with the merged
    model it scores, in one run).
    """
    if on_data_versions:
        changed_input = AC.data_version_changed() | AC.will_be_requested()
        updated = AC.any_deps_match(changed_input).with_label("an input's data version changed")
    else:
        updated = AC.any_deps_updated()
    changed = AC.code_version_changed().with_label("its code or settings changed")
    return (
        AC.in_latest_time_window()
        & (AC.newly_missing() | updated | changed).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("eager on data versions" if on_data_versions else "eager")


def stage_condition(
    upstream_with_blocking_checks: set[dg.AssetKey], on_data_versions: bool = False
) -> dg.AutomationCondition:
    """`eager` gated on the blocking checks of every ancestor, not only the parents: a stage two
    steps below a failed check must not start either."""
    condition = eager(on_data_versions)
    if not upstream_with_blocking_checks:
        return condition
    gate = blocking_checks_passed(upstream_with_blocking_checks)
    return (condition & gate).with_label(f"{condition.get_label()}, once upstream blocking checks passed")


def automate(
    assets: Sequence[dg.AssetsDefinition], checks: Sequence[dg.AssetChecksDefinition]
) -> list[dg.AssetsDefinition]:
    """The assets with their automation conditions set from the graph and the blocking checks."""
    parents: dict[dg.AssetKey, set[dg.AssetKey]] = defaultdict(set)
    for assets_def in assets:
        for spec in assets_def.specs:
            parents[spec.key].update(dep.asset_key for dep in spec.deps)
    guarded = {spec.asset_key for check in checks for spec in check.check_specs if spec.blocking}

    def with_condition(spec: dg.AssetSpec) -> dg.AssetSpec:
        condition = stage_condition(
            ancestors(parents, spec.key) & guarded, on_data_versions=spec.key in FOLLOW_DATA_VERSIONS
        )
        return spec.replace_attributes(automation_condition=condition)

    return list(dg.map_asset_specs(with_condition, assets))


training_selection = dg.AssetSelection.groups(TRAINING_GROUP)

# Two sensors so that training runs carry the GPU run tag, and so the checkpoint is requested
# only once the dataset run has finished and its checks have actually passed.
dataset_automation_sensor = dg.AutomationConditionSensorDefinition(
    "dataset_automation",
    target=dg.AssetSelection.all() - training_selection,
    minimum_interval_seconds=sensor_interval(os.environ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the dataset stages that are missing or whose upstream changed.",
)
training_automation_sensor = dg.AutomationConditionSensorDefinition(
    "training_automation",
    target=training_selection,
    run_tags=GPU_RUN_TAG,
    minimum_interval_seconds=sensor_interval(os.environ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retrains once the tokenized data changed and every blocking check upstream passed.",
)

automation_sensors = [dataset_automation_sensor, training_automation_sensor]
