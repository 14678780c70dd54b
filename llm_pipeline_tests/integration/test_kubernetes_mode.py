"""Kubernetes mode, tested short of a cluster (none is available here).

The definitions are built with the deployment variables set, as the code server in the cluster
builds them; the step executor's config is resolved into the Kubernetes Job it would submit; the
deployment files parse and agree with the code. The training pod itself is checked in
test_training_launchers.py. What needs a cluster (pods actually scheduled on GPU nodes, the
volume shared between them) is not tested here.
"""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config_schema
from dagster_k8s import K8sRunLauncher
from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
from kubernetes.client import ApiClient

import llm_pipeline.definitions
from llm_pipeline.defs.deployment import TRAINING_LAUNCHER_KEY, current_deployment
from llm_pipeline.defs.launchers import KubernetesTrainingLauncher, SubprocessTrainingLauncher
from llm_pipeline.environment import (
    DeploymentConfigError,
    kubernetes_settings,
    parse_node_selector,
    parse_tolerations,
)
from llm_pipeline_tests.support import REPO_ROOT

REPO = REPO_ROOT
DEPLOY = REPO / "deploy"
KUBERNETES_ENV = {
    "LLM_PIPELINE_DEPLOYMENT": "kubernetes",
    "LLM_PIPELINE_DATA_DIR": "/data",
    "LLM_PIPELINE_DATA_VOLUME_CLAIM": "llm-pipeline-data",
    "LLM_PIPELINE_GPUS_PER_PROCESS": "2",
    "LLM_PIPELINE_TRAINING_NODE_SELECTOR": "nvidia.com/gpu.present=true, pool=a100",
    "LLM_PIPELINE_TRAINING_TOLERATIONS": "nvidia.com/gpu:NoSchedule,dedicated=training:NoExecute",
    "LLM_PIPELINE_STEP_CPU": "2",
    "LLM_PIPELINE_STEP_MEMORY": "8Gi",
}


@pytest.fixture
def kubernetes_defs(monkeypatch):
    """llm_pipeline.definitions re-imported with the Kubernetes variables set, then restored."""
    for name, value in KUBERNETES_ENV.items():
        monkeypatch.setenv(name, value)
    yield importlib.reload(llm_pipeline.definitions).defs
    monkeypatch.undo()
    importlib.reload(llm_pipeline.definitions)


def test_local_mode_is_the_default():
    deployment = current_deployment({})
    assert deployment.mode == "local" and deployment.executor is None
    assert isinstance(deployment.resources[TRAINING_LAUNCHER_KEY], SubprocessTrainingLauncher)
    defs = llm_pipeline.definitions.defs
    assert defs.resolve_job_def("fine_tune").executor_def.name == "multi_or_in_process_executor"
    assert isinstance(defs.resources[TRAINING_LAUNCHER_KEY], SubprocessTrainingLauncher)


def test_kubernetes_definitions_run_steps_as_jobs_and_train_in_gpu_pods(kubernetes_defs):
    for job_name in ("prepare_dataset", "fine_tune"):
        executor = kubernetes_defs.resolve_job_def(job_name).executor_def
        assert executor.name == "k8s_steps"
    launcher = kubernetes_defs.resources[TRAINING_LAUNCHER_KEY]
    assert isinstance(launcher, KubernetesTrainingLauncher)
    spec = launcher.pod_spec(processes=2)
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true", "pool": "a100"}
    assert spec["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Equal", "value": "training", "effect": "NoExecute"},
    ]
    assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "llm-pipeline-data"


def test_step_executor_config_becomes_a_kubernetes_job_with_the_requests(kubernetes_defs):
    executor = kubernetes_defs.resolve_job_def("prepare_dataset").executor_def
    resolved = executor.config_schema.resolve_config({})  # the executor's own schema validates it
    assert resolved.success, resolved.errors
    step_config = resolved.value["config"]["step_k8s_config"]
    job = construct_dagster_k8s_job(
        job_config=DagsterK8sJobConfig(
            job_image="registry.example/llm-pipeline:1",
            dagster_home="/opt/dagster/dagster_home",
            instance_config_map="dagster-instance",
        ),
        args=["dagster", "api", "execute_step"],
        job_name="dagster-step-plaintext",
        user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(step_config),
        pod_name="dagster-step-plaintext",
        component="step_worker",
    )
    container = ApiClient().sanitize_for_serialization(job)["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "2", "memory": "8Gi"}
    assert container["image"] == "registry.example/llm-pipeline:1"


def test_dagster_validates_the_kubernetes_definitions(tmp_path):
    """The CLI loader, in a fresh process, as the code server in the cluster would load them."""
    env = {**os.environ, **KUBERNETES_ENV, "DAGSTER_HOME": str(tmp_path)}
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "llm_pipeline.definitions"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation" in done.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"LLM_PIPELINE_DATA_DIR": "s3://bucket/llm"}, "not s3://"),
        ({"LLM_PIPELINE_DATA_DIR": "gs://bucket/llm"}, "not gs://"),
        ({"LLM_PIPELINE_DATA_DIR": "data"}, "must be absolute"),
        ({"LLM_PIPELINE_DATA_VOLUME_CLAIM": ""}, "needs LLM_PIPELINE_DATA_VOLUME_CLAIM"),
        ({"LLM_PIPELINE_GPUS_PER_PROCESS": "-1"}, "LLM_PIPELINE_GPUS_PER_PROCESS='-1'"),
        ({"LLM_PIPELINE_GPUS_PER_PROCESS": "one"}, "expected a whole number"),
        ({"LLM_PIPELINE_TRAINING_TOLERATIONS": "nvidia.com/gpu"}, "key[=value]:Effect"),
        ({"LLM_PIPELINE_TRAINING_NODE_SELECTOR": "gpu"}, "is not key=value"),
        ({"LLM_PIPELINE_DEPLOYMENT": "swarm"}, "expected one of local, kubernetes"),
    ],
)
def test_a_bad_setting_fails_loading_with_the_variable_named(changes, message):
    with pytest.raises(DeploymentConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        current_deployment({**KUBERNETES_ENV, **changes})


def test_object_storage_is_refused_locally_too_and_file_urls_are_paths():
    with pytest.raises(DeploymentConfigError, match="not s3://"):
        current_deployment({"LLM_PIPELINE_DATA_DIR": "s3://bucket/llm"})
    settings = kubernetes_settings({**KUBERNETES_ENV, "LLM_PIPELINE_DATA_DIR": "file:///mnt/shared/llm"})
    assert settings.data_dir == "/mnt/shared/llm"


def test_selector_and_toleration_syntax():
    assert parse_node_selector("") == {}
    assert parse_node_selector("a=1,b=") == {"a": "1", "b": ""}
    assert parse_tolerations("k=v:PreferNoSchedule") == [
        {"key": "k", "operator": "Equal", "value": "v", "effect": "PreferNoSchedule"}
    ]


def test_helm_values_deploy_our_image_and_module_in_kubernetes_mode():
    values = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    module = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", module]
    assert deployment["image"]["repository"].endswith("/llm-pipeline")
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    env = deployment["env"]
    assert current_deployment(env).mode == "kubernetes"  # the values are settings the code accepts
    settings = kubernetes_settings(env)
    volumes = {volume["name"]: volume for volume in deployment["volumes"]}
    (mount,) = [mount for mount in deployment["volumeMounts"] if mount["mountPath"] == settings.data_dir]
    assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == settings.data_volume_claim
    assert deployment["podSecurityContext"]["fsGroup"] == KubernetesTrainingLauncher.model_fields["fs_group"].default

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert values["generatePostgresqlPasswordSecret"] is False and "postgresqlPassword" not in values["postgresql"]
    limits = yaml.safe_load((REPO / "dagster.yaml").read_text())["concurrency"]
    assert values["concurrency"]["pools"]["defaultLimit"] == limits["pools"]["default_limit"]
    assert values["concurrency"]["runs"]["tagConcurrencyLimits"] == limits["runs"]["tag_concurrency_limits"]


def test_standalone_kubernetes_instance_config_is_valid():
    config = yaml.safe_load((DEPLOY / "dagster-k8s.yaml").read_text())
    assert validate_config(dagster_instance_config_schema(), config).success
    launcher = validate_config(K8sRunLauncher.config_type(), config["run_launcher"]["config"])
    assert launcher.success, launcher.errors
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    default = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert config["concurrency"] == default["concurrency"]


def test_dockerfile_copies_what_the_package_build_needs():
    copies = [line.split() for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")]
    sources = {source for copy in copies for source in copy[1:-1]}
    readme = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["readme"]
    assert sources == {"pyproject.toml", readme, "llm_pipeline"}
    assert all((REPO / source).exists() for source in sources)
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    admitted = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore and sources <= admitted  # the build context holds these and nothing else
