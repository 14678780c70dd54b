"""The one Definitions object of the project: every asset, check, job, schedule, sensor, resource,
built from the project file (llm_pipeline.yaml, or the file $LLM_PIPELINE_CONFIG names)."""

from __future__ import annotations

import dagster as dg

from llm_pipeline.defs.assets.base_model import base_model_asset
from llm_pipeline.defs.assets.checkpoint import checkpoint_asset
from llm_pipeline.defs.assets.clustered import clustered_asset
from llm_pipeline.defs.assets.evaluation import evaluation_asset
from llm_pipeline.defs.assets.filtered import filtered_asset
from llm_pipeline.defs.assets.merged_model import merged_model
from llm_pipeline.defs.assets.plaintext import plaintext_asset
from llm_pipeline.defs.assets.promoted_model import promoted_model_asset
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.assets.splits import splits_asset
from llm_pipeline.defs.assets.tokenized import tokenized_asset
from llm_pipeline.defs.automation import automate, automation_sensors
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.defs.deployment import current_deployment
from llm_pipeline.defs.jobs import jobs
from llm_pipeline.defs.project import Project, load_project
from llm_pipeline.defs.resources import DataDirResource, hub_resource
from llm_pipeline.defs.schedules import schedules
from llm_pipeline.defs.sensors import sensors

# Each stage's asset built from its project settings, in graph order.
ASSET_FACTORIES = {
    "plaintext": plaintext_asset,
    "filtered": filtered_asset,
    "clustered": clustered_asset,
    "splits": splits_asset,
    "base_model": base_model_asset,
    "tokenized": tokenized_asset,
    "checkpoint": checkpoint_asset,
    "evaluation": evaluation_asset,
    "promoted_model": promoted_model_asset,
}


def build_pipeline_assets(project: Project) -> list[dg.AssetsDefinition]:
    """Every stage asset, its config defaults and code version from `project`, with its automation."""
    assets = [factory(project.of(stage)) for stage, factory in ASSET_FACTORIES.items()] + [merged_model]
    # Each stage follows its upstream, gated on the blocking checks above it (defs/automation.py).
    return automate(assets, asset_checks)


def build_definitions(project: Project, pipeline_assets: list[dg.AssetsDefinition] | None = None) -> dg.Definitions:
    """The Definitions of `project` (its stage assets, if already built, as `pipeline_assets`)."""
    # Where steps and training run ($LLM_PIPELINE_DEPLOYMENT: local or kubernetes; defs/deployment.py).
    deployment = current_deployment()
    return dg.Definitions(
        assets=[*raw_sources, *(pipeline_assets or build_pipeline_assets(project))],
        asset_checks=asset_checks,
        jobs=jobs,
        schedules=schedules,
        sensors=[*sensors, *automation_sensors],
        executor=deployment.executor,
        resources={
            "data_dir": DataDirResource(path=str(project.data_dir)),
            "hub": hub_resource(bool(project.of("promoted_model").hub_repo_id)),
            **deployment.resources,
        },
    )


project = load_project()
pipeline_assets = build_pipeline_assets(project)
defs = build_definitions(project, pipeline_assets)
