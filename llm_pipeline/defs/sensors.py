"""Re-run the pipeline when files under raw/ are added, changed or removed."""


import json

import dagster as dg

from llm_pipeline.defs.assets.raw import raw_asset_key
from llm_pipeline.defs.jobs import fine_tune_job
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.paths import RAW_FORMATS
from llm_pipeline.raw_files import combined_digest, folder_digests

# The tag Dagster reads an observation's data version from.
DATA_VERSION_TAG = "dagster/data_version"


def describe_changes(previous: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(current) - set(previous)),
        "removed": sorted(set(previous) - set(current)),
        "changed": sorted(name for name in set(current) & set(previous) if current[name] != previous[name]),
    }


@dg.sensor(
    job=fine_tune_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a fine_tune run when a file under raw/ is added, changed or removed (cursor: content hashes).",
)
def raw_data_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirResource) -> dg.SensorResult | dg.SkipReason:
    layout = data_dir.layout
    per_format = {fmt: folder_digests(layout.raw(fmt)) for fmt in RAW_FORMATS}
    current = {f"{fmt}/{name}": digest for fmt, files in per_format.items() for name, digest in files.items()}
    previous = json.loads(context.cursor) if context.cursor else None
    if previous == current:
        return dg.SkipReason(f"no change in {len(current)} raw files")
    changes = describe_changes(previous or {}, current)
    touched = {name.split("/", 1)[0] for names in changes.values() for name in names}
    observations = [
        dg.AssetObservation(raw_asset_key(fmt), tags={DATA_VERSION_TAG: combined_digest(per_format[fmt])})
        for fmt in RAW_FORMATS
        if fmt in touched
    ]
    never_built = context.instance.get_latest_materialization_event(dg.AssetKey("plaintext")) is None
    if previous is None and not never_built:
        # First evaluation with outputs already built: remember the files, do not retrain.
        return dg.SensorResult(cursor=json.dumps(current), asset_events=observations)
    summary = ", ".join(f"{len(names)} {kind}" for kind, names in changes.items() if names)
    context.log.info(f"raw data changed: {summary}")
    run = dg.RunRequest(
        run_key=combined_digest(current),
        tags={"llm_pipeline/raw_changes": summary[:200]},
    )
    return dg.SensorResult(run_requests=[run], cursor=json.dumps(current), asset_events=observations)


sensors = [raw_data_sensor]
