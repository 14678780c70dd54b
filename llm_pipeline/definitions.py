"""The one Definitions object of the project: every asset, check, job, schedule, sensor, resource."""

from __future__ import annotations

import dagster as dg

from llm_pipeline.defs.assets.base_model import base_model
from llm_pipeline.defs.assets.checkpoint import checkpoint
from llm_pipeline.defs.assets.clustered import clustered
from llm_pipeline.defs.assets.filtered import filtered
from llm_pipeline.defs.assets.merged_model import merged_model
from llm_pipeline.defs.assets.plaintext import plaintext
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.assets.splits import splits
from llm_pipeline.defs.assets.tokenized import tokenized
from llm_pipeline.defs.automation import automate, automation_sensors
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.defs.deployment import current_deployment
from llm_pipeline.defs.jobs import jobs
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.schedules import schedules
from llm_pipeline.defs.sensors import sensors

pipeline_assets = [plaintext, filtered, clustered, splits, base_model, tokenized, checkpoint, merged_model]
# Each stage follows its upstream, gated on the blocking checks above it (defs/automation.py).
pipeline_assets = automate(pipeline_assets, asset_checks)
# Where steps and training run ($LLM_PIPELINE_DEPLOYMENT: local or kubernetes; defs/deployment.py).
deployment = current_deployment()

defs = dg.Definitions(
    assets=[*raw_sources, *pipeline_assets],
    asset_checks=asset_checks,
    jobs=jobs,
    schedules=schedules,
    sensors=[*sensors, *automation_sensors],
    executor=deployment.executor,
    resources={
        "data_dir": DataDirResource(),
        **deployment.resources,
    },
)
