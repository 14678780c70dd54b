"""Watch raw/: a new data version of the raw sources whenever a file is added, changed or removed.

The stages' automation conditions (defs/automation.py) follow the new data version, so one change
is one rebuild, gated on the asset checks. The sensor launches a run itself only on its very
first look at a data directory with nothing built: an automation condition does not fire on its
own first evaluation, so without it a fresh `dagster dev` would wait for the next edit.
"""

import json
import os

import dagster as dg

from llm_pipeline.defs.assets.raw import raw_asset_key
from llm_pipeline.defs.jobs import fine_tune_job
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.environment import sensor_interval
from llm_pipeline.stages.plaintext.formats import FORMATS as RAW_FORMATS
from llm_pipeline.storage.raw_files import combined_digest, folder_digests

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
    minimum_interval_seconds=sensor_interval(os.environ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records a new data version of the raw sources when a file under raw/ is added, changed or removed "
    "(cursor: content hashes); the automation sensors then rebuild what depends on them. First look with nothing built: a fine_tune run.",
)
def raw_data_sensor(context: dg.SensorEvaluationContext, data_dir: DataDirResource) -> dg.SensorResult | dg.SkipReason:
    layout = data_dir.layout
    per_format = {fmt: folder_digests(layout.raw(fmt), layout.root, layout.raw()) for fmt in RAW_FORMATS}
    current = {f"{fmt}/{name}": digest for fmt, files in per_format.items() for name, digest in files.items()}
    previous = json.loads(context.cursor) if context.cursor else None
    if previous == current:
        return dg.SkipReason(f"no change in {len(current)} raw files")
    if previous is None and not current:
        # A run over nothing would only fail at its first stage; a first file starts one.
        return dg.SkipReason(
            f"no raw files yet under {layout.raw()}/<format>/ ({', '.join(RAW_FORMATS)}): nothing to build"
        )
    if previous is None:
        if context.instance.get_latest_materialization_event(dg.AssetKey("plaintext")) is not None:
            # Outputs built before the sensor ran: remember the files, do not rebuild.
            return dg.SensorResult(cursor=json.dumps(current))
        context.log.info(f"nothing built yet: requesting a fine_tune run over {len(current)} raw files")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=combined_digest(current))], cursor=json.dumps(current)
        )
    changes = describe_changes(previous, current)
    summary = ", ".join(f"{len(names)} {kind}" for kind, names in changes.items() if names)
    context.log.info(f"raw data changed: {summary}")
    # Every folder is observed: an unchanged folder keeps its data version and triggers nothing,
    # and no raw source is left without one (a stage waits for all of its inputs).
    observations = [
        dg.AssetObservation(
            raw_asset_key(fmt),
            tags={DATA_VERSION_TAG: combined_digest(per_format[fmt])},
            metadata={
                "files": len(per_format[fmt]),
                "changes": dg.MetadataValue.json(
                    {kind: [name for name in names if name.startswith(f"{fmt}/")] for kind, names in changes.items()}
                ),
            },
        )
        for fmt in RAW_FORMATS
    ]
    return dg.SensorResult(cursor=json.dumps(current), asset_events=observations)


sensors = [raw_data_sensor]
