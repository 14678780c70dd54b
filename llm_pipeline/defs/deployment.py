"""The deployment mode, chosen by $LLM_PIPELINE_DEPLOYMENT: the same definitions here or on Kubernetes.

local (default): Dagster's default executor (a process per step) and the trainer as a child
process. kubernetes: every step in its own Kubernetes Job (dagster-k8s's `k8s_job_executor`),
and the trainer in a GPU pod launched through Dagster Pipes (`PipesK8sClient`). The instance
(PostgreSQL storage, the K8sRunLauncher) is not chosen here but by the instance's dagster.yaml:
the Helm chart writes it from deploy/helm-values.yaml.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from llm_pipeline.defs.launchers import KubernetesTrainingLauncher, SubprocessTrainingLauncher, Toleration
from llm_pipeline.environment import (
    KUBERNETES,
    LOCAL,
    KubernetesSettings,
    deployment_mode,
    kubernetes_settings,
    local_data_dir,
)
from llm_pipeline.storage.layout import DATA_DIR_ENV

TRAINING_LAUNCHER_KEY = "training_launcher"

# Locally each step is a process of its own. Forked from a server that has imported the
# definitions once, a step starts in a fraction of a second instead of spending ~2.5 s of CPU
# importing them (measured by benchmarks/scale.py's author at 10 MiB: the dataset job's run
# 113.5 s with spawn, 71.2 s with this). The trainer is launched by Pipes either way.
LOCAL_EXECUTION = {
    "execution": {
        "config": {"multiprocess": {"start_method": {"forkserver": {"preload_modules": ["llm_pipeline.definitions"]}}}}
    }
}


@dataclass(frozen=True)
class Deployment:
    mode: str
    executor: dg.ExecutorDefinition | None  # None: Dagster's default
    resources: dict[str, dg.ConfigurableResource]


def current_deployment(environ: Mapping[str, str] = os.environ) -> Deployment:
    """The deployment the environment asks for; a malformed variable fails loading, with its name."""
    mode = deployment_mode(environ)
    if environ.get(DATA_DIR_ENV):
        local_data_dir(environ[DATA_DIR_ENV])
    if mode == LOCAL:
        return Deployment(LOCAL, None, {TRAINING_LAUNCHER_KEY: SubprocessTrainingLauncher()})
    settings = kubernetes_settings(environ)
    return Deployment(
        KUBERNETES, kubernetes_executor(settings), {TRAINING_LAUNCHER_KEY: kubernetes_training_launcher(settings)}
    )


def execution_run_config(environ: Mapping[str, str] = os.environ) -> dict:
    """The executor's run config for a run started from this machine: forked steps locally; on
    Kubernetes the step executor's own defaults."""
    return LOCAL_EXECUTION if deployment_mode(environ) == LOCAL else {}


def kubernetes_executor(settings: KubernetesSettings) -> dg.ExecutorDefinition:
    """Each step in its own Kubernetes Job, in the image of the run's code location.

    The step pods get the code location's volumes and environment through the Helm chart's
    `includeConfigInLaunchedRuns`, so the data volume is mounted where the definitions expect it.
    """
    from dagster_k8s import k8s_job_executor

    requests = {"cpu": settings.step_cpu, "memory": settings.step_memory}
    config: dict = {"step_k8s_config": {"container_config": {"resources": {"requests": requests}}}}
    if settings.namespace:
        config["job_namespace"] = settings.namespace
    return k8s_job_executor.configured(config, name="k8s_steps")


def kubernetes_training_launcher(settings: KubernetesSettings) -> KubernetesTrainingLauncher:
    return KubernetesTrainingLauncher(
        data_dir=settings.data_dir,
        data_volume_claim=settings.data_volume_claim,
        image=settings.training_image,
        namespace=settings.namespace,
        gpus_per_process=settings.gpus_per_process,
        cpu=settings.training_cpu,
        memory=settings.training_memory,
        node_selector=settings.training_node_selector,
        tolerations=[Toleration(**toleration) for toleration in settings.training_tolerations],
    )
