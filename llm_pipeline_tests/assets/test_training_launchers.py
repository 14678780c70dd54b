"""The training launchers: a real child process through Pipes here; the Kubernetes pod as the API would receive it."""

import sys
import textwrap

import dagster as dg
import pytest
from dagster_k8s.pipes import build_pod_body
from kubernetes.client import ApiClient

from llm_pipeline.defs.launchers import (
    KubernetesTrainingLauncher,
    SubprocessTrainingLauncher,
    Toleration,
    TrainingLauncher,
)

CHILD = """
import os, sys
from dagster_pipes import open_dagster_pipes

with open_dagster_pipes() as pipes:
    pipes.log.info("child started")
    if sys.argv[1] == "fail":
        sys.exit(3)
    pipes.report_asset_materialization(metadata={"argument": sys.argv[1], "from_env": os.environ["LLM_PIPELINE_TEST_VALUE"]})
"""


def launched_asset(script, argument: str) -> dg.AssetsDefinition:
    @dg.asset(name="trained")
    def trained(context: dg.AssetExecutionContext, training_launcher: TrainingLauncher) -> dg.MaterializeResult:
        command = [sys.executable, str(script), argument]
        return training_launcher.launch(
            context, command, {"LLM_PIPELINE_TEST_VALUE": "passed through"}
        ).get_materialize_result()

    return trained


@pytest.fixture
def child_script(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    return script


def test_subprocess_launcher_runs_the_command_and_returns_what_it_reported(child_script):
    result = dg.materialize(
        [launched_asset(child_script, "hello")], resources={"training_launcher": SubprocessTrainingLauncher()}
    )
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["argument"].value == "hello"
    assert metadata["from_env"].value == "passed through"


def test_subprocess_launcher_fails_the_step_when_the_child_fails(child_script):
    result = dg.materialize(
        [launched_asset(child_script, "fail")],
        resources={"training_launcher": SubprocessTrainingLauncher()},
        raise_on_error=False,
    )
    assert not result.success
    assert "failed with code 3" in result.get_step_failure_events()[0].step_failure_data.error.to_string()


def test_the_pod_requests_a_gpu_per_training_process():
    def gpus(launcher: KubernetesTrainingLauncher, processes: int) -> str | None:
        return launcher.pod_spec(processes)["containers"][0]["resources"]["limits"].get("nvidia.com/gpu")

    launcher = KubernetesTrainingLauncher(data_dir="/data", data_volume_claim="data")
    assert gpus(launcher, 1) == "1" and gpus(launcher, 4) == "4"
    cpu_pods = KubernetesTrainingLauncher(data_dir="/data", data_volume_claim="data", gpus_per_process=0)
    assert gpus(cpu_pods, 2) is None


def test_training_pod_requests_gpus_on_the_selected_nodes_with_the_data_volume():
    launcher = KubernetesTrainingLauncher(
        data_dir="/data",
        data_volume_claim="llm-pipeline-data",
        node_selector={"nvidia.com/gpu.present": "true"},
        tolerations=[Toleration(key="nvidia.com/gpu", effect="NoSchedule")],
    )
    # The same function PipesK8sClient.run builds its pod with, so the spec meets the real API models.
    pod = build_pod_body(
        pod_name="dagster-run-checkpoint",
        image="registry.example/llm-pipeline:1",
        command=["python", "-m", "accelerate.commands.launch", "--num_processes", "2"],
        env_vars=launcher.pod_env({"OMP_NUM_THREADS": "1"}),
        base_pod_meta={"labels": {"app.kubernetes.io/component": "training"}},
        base_pod_spec=launcher.pod_spec(processes=2),
    )
    manifest = ApiClient().sanitize_for_serialization(pod)
    spec = manifest["spec"]
    (container,) = spec["containers"]
    assert container["image"] == "registry.example/llm-pipeline:1"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "2"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["restartPolicy"] == "Never"
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "llm-pipeline-data"
    assert mounts["data"] == "/data"
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env == {"OMP_NUM_THREADS": "1", "LLM_PIPELINE_DATA_DIR": "/data"}


def test_kubernetes_launcher_outside_a_cluster_says_which_image_is_missing(tmp_path):
    result = dg.materialize(
        [launched_asset(tmp_path / "unused.py", "hello")],
        resources={"training_launcher": KubernetesTrainingLauncher(data_dir="/data", data_volume_claim="data")},
        raise_on_error=False,
    )
    assert not result.success
    assert "no image for the training pod" in result.get_step_failure_events()[0].step_failure_data.error.to_string()
