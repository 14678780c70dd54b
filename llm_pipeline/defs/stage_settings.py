"""What every stage asset does with the project file: config defaults, a code version, and the
settings of one run with the launchpad's overrides named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from llm_pipeline.defs.config import to_settings
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.storage.fingerprint import plain, settings_fingerprint

OVERRIDES_KEY = "project_file_overrides"


def stage_code_version(module: str, settings: Any, libraries: tuple[str, ...] = ()) -> str:
    """The asset's code version: its code (derived from the imports of `module`) and its project
    settings. A changed setting shows the asset, and only it, as changed in the UI, and the
    automation rebuilds it and what is below it."""
    return settings_fingerprint(code_fingerprint(module, libraries=libraries), settings)[:16]


def run_settings(
    context: dg.AssetExecutionContext,
    config: dg.Config,
    settings_type: type,
    project_settings: Any,
    exclude: tuple[str, ...] = (),
    **extra: Any,
) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The settings of this run, and the keys its launchpad config changed from the project file.

    The config's defaults are the project file's values, so a run started by a sensor or by
    automation changes nothing; a launchpad edit is a one-off override, named in the run log.
    """
    settings = to_settings(config, settings_type, **extra)
    overrides = changed_keys(_without(plain(project_settings), exclude), _without(plain(settings), exclude))
    if overrides:
        described = "; ".join(f"{key} = {o['run']!r} (file: {o['file']!r})" for key, o in overrides.items())
        context.log.info(f"this run overrides the project file: {described}")
    return settings, overrides


def overrides_metadata(overrides: Mapping[str, Any]) -> dict[str, dg.MetadataValue]:
    """The overrides as materialization metadata; nothing when the run used the file as written."""
    return {OVERRIDES_KEY: dg.MetadataValue.json(dict(overrides))} if overrides else {}


def changed_keys(file: Any, run: Any, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Dotted keys whose value differs between two plain settings trees, with both values."""
    if isinstance(file, dict) and isinstance(run, dict):
        changed: dict[str, dict[str, Any]] = {}
        for key in sorted(set(file) | set(run)):
            changed.update(changed_keys(file.get(key), run.get(key), f"{prefix}{key}."))
        return changed
    return {} if file == run else {prefix.rstrip("."): {"file": file, "run": run}}


def _without(values: dict[str, Any], exclude: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in exclude}
