"""How the training step starts the trainer: a child process on this machine, a GPU pod on Kubernetes.

Both run the same command through Dagster Pipes, so the trainer reports its learning curve and
final metrics the same way wherever it runs; the checkpoint asset only sees `TrainingLauncher`.
"""

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import dagster as dg
from pydantic import Field

from llm_pipeline.storage.layout import DATA_DIR_ENV
from llm_pipeline.training.guard import STEP_PID_ENV

DATA_VOLUME = "data"
SHM_VOLUME = "dshm"
TRAINING_POD_LABELS = {"app.kubernetes.io/name": "llm-pipeline", "app.kubernetes.io/component": "training"}


class TrainingLauncher(dg.ConfigurableResource, ABC):
    """Starts the training command, waits for it, and hands back what it reported through Pipes."""

    @abstractmethod
    def launch(
        self, context: dg.AssetExecutionContext, command: Sequence[str], env: Mapping[str, str], processes: int = 1
    ) -> dg.PipesClientCompletedInvocation:
        """Run `command`, which starts `processes` training processes, with `env` added to its environment."""


class SubprocessTrainingLauncher(TrainingLauncher):
    """The trainer as a child process of the step, with the step's environment plus `env`."""

    def launch(
        self, context: dg.AssetExecutionContext, command: Sequence[str], env: Mapping[str, str], processes: int = 1
    ) -> dg.PipesClientCompletedInvocation:
        # The processes share this machine's devices; accelerate launch starts them. The trainer
        # watches this step's pid and ends itself when the step is gone (training/guard.py).
        env = {**env, STEP_PID_ENV: str(os.getpid())}
        return dg.PipesSubprocessClient().run(context=context, command=list(command), env=env)


class Toleration(dg.Config):
    """A taint the training pod tolerates (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/)."""

    key: str = Field(description="Taint key, e.g. nvidia.com/gpu.")
    operator: str = Field(default="Exists", description="Exists (any value) or Equal (only `value`).")
    value: str = Field(default="", description="Taint value, with operator Equal.")
    effect: str = Field(default="", description="NoSchedule, PreferNoSchedule or NoExecute; empty: every effect.")


class KubernetesTrainingLauncher(TrainingLauncher):
    """The trainer in its own pod with GPUs, launched with dagster-k8s's PipesK8sClient.

    The pod mounts the shared data volume at the same path as every other pod, so the run config
    the step wrote and the checkpoint the trainer writes are where each side expects them.
    """

    data_dir: str = Field(description="Where the shared data volume is mounted (the same path in every pod).")
    data_volume_claim: str = Field(description="The PersistentVolumeClaim (ReadWriteMany) holding the data directory.")
    image: str = Field(
        default="", description="Image of the training pod; empty: the image of the run's code location."
    )
    namespace: str = Field(
        default="", description="Namespace of the training pod; empty: the namespace the run runs in."
    )
    gpus_per_process: int = Field(default=1, ge=0, description="GPUs requested per training process (0: a CPU pod).")
    gpu_resource: str = Field(default="nvidia.com/gpu", description="Extended resource name of a GPU on the cluster.")
    cpu: str = Field(default="4", description="CPU request of the training pod.")
    memory: str = Field(default="32Gi", description="Memory request and limit of the training pod.")
    node_selector: dict[str, str] = Field(default_factory=dict, description="Node labels the training pod must match.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Taints of GPU nodes the pod tolerates.")
    fs_group: int = Field(
        default=1000, description="Group owning the files on the data volume (the image's user: deploy/Dockerfile)."
    )
    service_account_name: str = Field(
        default="", description="Service account of the training pod; empty: the namespace default."
    )

    def pod_spec(self, processes: int = 1) -> dict:
        """The training pod (Kubernetes PodSpec fields); PipesK8sClient adds the image, command and env."""
        gpus = processes * self.gpus_per_process
        gpus_and_memory = {**({self.gpu_resource: str(gpus)} if gpus else {}), "memory": self.memory}
        spec = {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "trainer",
                    "resources": {"requests": {**gpus_and_memory, "cpu": self.cpu}, "limits": gpus_and_memory},
                    "volumeMounts": [
                        {"name": DATA_VOLUME, "mountPath": self.data_dir},
                        # NCCL and DataLoader workers share tensors through /dev/shm, 64 MiB by default.
                        {"name": SHM_VOLUME, "mountPath": "/dev/shm"},
                    ],
                }
            ],
            "volumes": [
                {"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": self.data_volume_claim}},
                {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory"}},
            ],
            "securityContext": {"fsGroup": self.fs_group},
            "nodeSelector": dict(self.node_selector),
            "tolerations": [
                {name: value for name, value in toleration.model_dump().items() if value}
                for toleration in self.tolerations
            ],
        }
        if self.service_account_name:
            spec["serviceAccountName"] = self.service_account_name
        return spec

    def pod_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """Only what the trainer needs: the pod does not inherit the step's environment."""
        return {**env, DATA_DIR_ENV: self.data_dir}

    def launch(
        self, context: dg.AssetExecutionContext, command: Sequence[str], env: Mapping[str, str], processes: int = 1
    ) -> dg.PipesClientCompletedInvocation:
        from dagster_k8s import PipesK8sClient

        image = self.image or run_image(context)
        if not image:
            raise dg.Failure(
                "no image for the training pod: the run has no code-location image (is it running on Kubernetes?); "
                "set the training_launcher resource's `image` or LLM_PIPELINE_TRAINING_IMAGE"
            )
        return PipesK8sClient().run(
            context=context,
            image=image,
            command=list(command),
            namespace=self.namespace or None,
            env=self.pod_env(env),
            base_pod_meta={"labels": TRAINING_POD_LABELS},
            base_pod_spec=self.pod_spec(processes),
        )


def run_image(context: dg.AssetExecutionContext) -> str | None:
    """The image the run's code location was deployed with (what the k8s executor runs steps in)."""
    origin = context.run.job_code_origin
    return origin.repository_origin.container_image if origin else None
