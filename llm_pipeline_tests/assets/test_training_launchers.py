"""The training launchers: a real child process through Pipes here; the Kubernetes pod as the API would receive it;
and the checkpoint asset refusing a bad config before it launches anything, without retries."""

import dataclasses
import shutil
import sys
import textwrap

import dagster as dg
import pytest
from dagster_k8s.pipes import build_pod_body
from kubernetes.client import ApiClient

from llm_pipeline.definitions import project
from llm_pipeline.defs.assets.checkpoint import CHECKPOINT_DIR_NAME, RUN_CONFIG_FILE, TRAINING_RETRY_POLICY
from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.launchers import (
    KubernetesTrainingLauncher,
    SubprocessTrainingLauncher,
    Toleration,
    TrainingLauncher,
)
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.training.config import RUN_FIELDS, TrainingConfig
from llm_pipeline_tests.support.dagster_resources import local_resources
from llm_pipeline_tests.support.stage_assets import stage_asset

checkpoint = stage_asset("checkpoint")

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


# --- the checkpoint asset: config checked before anything is launched ---------------------------


def checkpoint_run(data_dir, config: dict, launcher=None, **options) -> dg.ExecuteInProcessResult:
    """The checkpoint asset alone, on a data dir whose base model reference points nowhere useful:
    every run here must stop before the trainer would load it."""
    write_model_ref(data_dir / "models", "no-model-is-loaded", origin="test")
    return dg.materialize(
        [checkpoint],
        run_config=dg.RunConfig(ops={"checkpoint": {"config": config}}),
        resources={**local_resources(data_dir), **({"training_launcher": launcher} if launcher else {})},
        **options,
    )


def step_attempts(result: dg.ExecuteInProcessResult) -> int:
    restarts = [
        event
        for event in result.all_events
        if event.event_type in (dg.DagsterEventType.STEP_UP_FOR_RETRY, dg.DagsterEventType.STEP_RESTARTED)
    ]
    return 1 + sum(1 for event in restarts if event.event_type == dg.DagsterEventType.STEP_RESTARTED)


def test_the_launchpad_offers_every_training_setting_with_the_project_files_value_and_help():
    train_config = config_class(TrainingConfig, "TrainConfig", exclude=RUN_FIELDS, defaults=project.of("checkpoint"))
    fields = train_config.model_fields
    assert set(fields) == {field.name for field in dataclasses.fields(TrainingConfig)} - set(RUN_FIELDS)
    defaults = project.of("checkpoint")
    assert all(fields[name].default == getattr(defaults, name) for name in fields)
    assert all(fields[name].description for name in fields)
    # The shipped file names no base model: the tiny model's training defaults, not the code's LoRA.
    assert fields["method"].default == "full" and TrainingConfig().method == "lora"


@pytest.mark.parametrize("setting, value", [("method", "QLoRA"), ("optim", "adam"), ("precision", "int8")])
def test_the_launchpad_refuses_a_choice_that_does_not_exist_before_a_run(tmp_path, setting, value):
    with pytest.raises(dg.DagsterInvalidConfigError, match=setting):
        checkpoint_run(tmp_path, {setting: value})
    assert not (tmp_path / "models" / CHECKPOINT_DIR_NAME).exists()
    # The trainer reads its config from JSON, where nothing checked the choice: validate() does.
    with pytest.raises(ValueError, match=f"{setting} must be one of"):
        TrainingConfig(base_model="m", tokenized_path="t", output_dir="o", **{setting: value}).validate()


@pytest.mark.parametrize(
    "config, message",
    [
        ({"learning_rate": -1.0}, "learning_rate must be a positive number; got -1.0"),
        ({"lora_dropout": 1.5}, "lora_dropout must be in [0, 1); got 1.5"),
    ],
)
def test_a_config_error_fails_the_step_once_without_retries(tmp_path, config, message):
    result = checkpoint_run(tmp_path, config, raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert message in failure.step_failure_data.user_failure_data.description
    assert step_attempts(result) == 1
    assert not (tmp_path / "models" / CHECKPOINT_DIR_NAME / RUN_CONFIG_FILE).exists()  # nothing was launched


def test_a_failed_launch_is_retried_by_the_same_policy(tmp_path):
    # The counterpart of the test above: with a valid config, a launch that fails (no pod image
    # outside Kubernetes) goes through TRAINING_RETRY_POLICY (two retries, 5 s apart).
    launcher = KubernetesTrainingLauncher(data_dir=str(tmp_path), data_volume_claim="data")
    result = checkpoint_run(tmp_path, {"max_steps": 1}, launcher, raise_on_error=False)
    assert not result.success
    assert step_attempts(result) == 1 + TRAINING_RETRY_POLICY.max_retries


@pytest.mark.slow
def test_a_diverged_run_fails_the_step_once_with_the_trainers_own_message(tmp_path, tiny_model_dir, tiny_tokenized_dir):
    # A real launch that fails the same way every time: the step's failure is the trainer's first
    # error line, and the retry policy is not spent on it.
    write_model_ref(tmp_path / "models", str(tiny_model_dir), origin="test")
    shutil.copytree(tiny_tokenized_dir, tmp_path / "tokenized")
    config = {"method": "full", "learning_rate": 1e9, "warmup_steps": 0, "max_steps": 8, "logging_steps": 1}
    result = dg.materialize(
        [checkpoint],
        run_config=dg.RunConfig(ops={"checkpoint": {"config": config}}),
        resources=local_resources(tmp_path),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("training failed: NonFiniteTrainingError: the training loss is ")
    assert "learning rate (1e+09) is too high" in description
    assert step_attempts(result) == 1
    assert not (tmp_path / "models" / CHECKPOINT_DIR_NAME / "final").exists()
