"""Stage assets built from the code defaults of their settings, not from the shipped project file:
for tests about one stage, which must not change when someone edits llm_pipeline.yaml."""

import dagster as dg

from llm_pipeline.definitions import ASSET_FACTORIES
from llm_pipeline.defs.project import STAGE_SETTINGS


def stage_asset(stage: str) -> dg.AssetsDefinition:
    return ASSET_FACTORIES[stage](STAGE_SETTINGS[stage]())
