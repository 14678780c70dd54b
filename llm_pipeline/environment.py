"""Where the pipeline runs, read from environment variables: on this machine or on Kubernetes.

No Dagster here: `defs/deployment.py` turns these settings into an executor and resources. The
variables are set once per deployment (on Kubernetes by the Helm values in deploy/), so the same
definitions load everywhere and only the environment says where their steps run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fsspec.core import split_protocol

from llm_pipeline.storage.layout import DATA_DIR_ENV

DEPLOYMENT_ENV = "LLM_PIPELINE_DEPLOYMENT"
LOCAL = "local"
KUBERNETES = "kubernetes"
MODES = (LOCAL, KUBERNETES)

# Kubernetes mode: every variable, with what it sets (the README lists them too).
DATA_VOLUME_CLAIM_ENV = "LLM_PIPELINE_DATA_VOLUME_CLAIM"
NAMESPACE_ENV = "LLM_PIPELINE_K8S_NAMESPACE"
TRAINING_IMAGE_ENV = "LLM_PIPELINE_TRAINING_IMAGE"
GPUS_PER_PROCESS_ENV = "LLM_PIPELINE_GPUS_PER_PROCESS"
TRAINING_CPU_ENV = "LLM_PIPELINE_TRAINING_CPU"
TRAINING_MEMORY_ENV = "LLM_PIPELINE_TRAINING_MEMORY"
TRAINING_NODE_SELECTOR_ENV = "LLM_PIPELINE_TRAINING_NODE_SELECTOR"
TRAINING_TOLERATIONS_ENV = "LLM_PIPELINE_TRAINING_TOLERATIONS"
STEP_CPU_ENV = "LLM_PIPELINE_STEP_CPU"
STEP_MEMORY_ENV = "LLM_PIPELINE_STEP_MEMORY"

# Both modes: how often the raw-data sensor and the automation sensors look (seconds).
SENSOR_INTERVAL_ENV = "LLM_PIPELINE_SENSOR_INTERVAL"
DEFAULT_SENSOR_INTERVAL = 30

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
LOCAL_PROTOCOLS = (None, "file", "local")


class DeploymentConfigError(ValueError):
    """A deployment variable that cannot work; the message names the variable and the fix."""


def sensor_interval(environ: Mapping[str, str]) -> int:
    """Seconds between two looks of each sensor: how soon a raw change starts a rebuild."""
    value = environ.get(SENSOR_INTERVAL_ENV, "").strip()
    if not value:
        return DEFAULT_SENSOR_INTERVAL
    if not value.isdigit() or int(value) < 1:
        raise DeploymentConfigError(f"{SENSOR_INTERVAL_ENV}={value!r}: expected a whole number of seconds, at least 1")
    return int(value)


def deployment_mode(environ: Mapping[str, str]) -> str:
    mode = environ.get(DEPLOYMENT_ENV, "").strip().lower() or LOCAL
    if mode not in MODES:
        raise DeploymentConfigError(f"{DEPLOYMENT_ENV}={environ[DEPLOYMENT_ENV]!r}: expected one of {', '.join(MODES)}")
    return mode


def local_data_dir(location: str, variable: str = DATA_DIR_ENV) -> Path:
    """The data directory, given as a path or an fsspec URL, accepted only on a local filesystem.

    Stages write into a temporary folder and rename it into place (stage_store.atomic_dir), and
    the trainer and tokenizer open models and datasets by local path. Object stores (s3://, gs://,
    az://, ...) have no atomic rename, so they are refused here rather than half-working; on a
    cluster the data directory is a shared volume mounted at the same path in every pod.
    """
    protocol, path = split_protocol(location)
    if protocol not in LOCAL_PROTOCOLS:
        raise DeploymentConfigError(
            f"{variable}={location!r}: the data directory must be on a local or mounted filesystem, not {protocol}://. "
            "Stage outputs are renamed into place, which object stores cannot do atomically; mount shared storage "
            "(on Kubernetes a ReadWriteMany volume, deploy/helm-values.yaml) and give its path."
        )
    return Path(path).expanduser()


def parse_node_selector(text: str, variable: str = TRAINING_NODE_SELECTOR_ENV) -> dict[str, str]:
    """`key=value,key2=value2` (kubectl label syntax) -> a node selector."""
    selector = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DeploymentConfigError(f"{variable}: {item!r} is not key=value")
        selector[key.strip()] = value.strip()
    return selector


def parse_tolerations(text: str, variable: str = TRAINING_TOLERATIONS_ENV) -> list[dict[str, str]]:
    """`key=value:Effect` or `key:Effect` (kubectl taint syntax), comma-separated -> tolerations.

    `key=value` tolerates only that value (operator Equal); a bare key tolerates any (Exists).
    """
    tolerations = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        taint, _, effect = item.rpartition(":")
        key, sep, value = taint.partition("=")
        if not key or effect not in TAINT_EFFECTS:
            raise DeploymentConfigError(
                f"{variable}: {item!r} is not key[=value]:Effect with Effect one of {', '.join(TAINT_EFFECTS)}"
            )
        toleration = {"key": key, "operator": "Equal" if sep else "Exists", "effect": effect}
        if sep:
            toleration["value"] = value
        tolerations.append(toleration)
    return tolerations


def whole_number(text: str, variable: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise DeploymentConfigError(f"{variable}={text!r}: expected a whole number (0 or more)")
    return value


@dataclass(frozen=True)
class KubernetesSettings:
    """What a Kubernetes deployment needs beyond the Helm chart: the shared data volume, and the
    shape of the training pod."""

    data_dir: str  # where the shared volume is mounted, in every pod
    data_volume_claim: str  # the PersistentVolumeClaim (ReadWriteMany) holding the data directory
    namespace: str = ""  # empty: the namespace the run runs in
    training_image: str = ""  # empty: the image of the run's code location
    gpus_per_process: int = 1  # the pod requests one GPU per training process (0: a CPU pod)
    training_cpu: str = "4"
    training_memory: str = "32Gi"
    training_node_selector: dict[str, str] = field(default_factory=dict)
    training_tolerations: list[dict[str, str]] = field(default_factory=list)
    step_cpu: str = "1"
    step_memory: str = "4Gi"


def kubernetes_settings(environ: Mapping[str, str]) -> KubernetesSettings:
    """The Kubernetes settings, refused with the variable's name when one is missing or malformed."""
    missing = [name for name in (DATA_DIR_ENV, DATA_VOLUME_CLAIM_ENV) if not environ.get(name, "").strip()]
    if missing:
        raise DeploymentConfigError(
            f"{DEPLOYMENT_ENV}=kubernetes needs {' and '.join(missing)}: the path where the shared data volume "
            "is mounted and the name of its PersistentVolumeClaim (see deploy/helm-values.yaml)"
        )
    data_dir = local_data_dir(environ[DATA_DIR_ENV])
    if not data_dir.is_absolute():
        raise DeploymentConfigError(
            f"{DATA_DIR_ENV}={environ[DATA_DIR_ENV]!r}: on Kubernetes it is a mount path and must be absolute"
        )
    defaults = KubernetesSettings(data_dir="", data_volume_claim="")

    def text(name: str, default: str) -> str:
        return environ.get(name, "").strip() or default

    return KubernetesSettings(
        data_dir=str(data_dir),
        data_volume_claim=environ[DATA_VOLUME_CLAIM_ENV].strip(),
        namespace=text(NAMESPACE_ENV, defaults.namespace),
        training_image=text(TRAINING_IMAGE_ENV, defaults.training_image),
        gpus_per_process=whole_number(text(GPUS_PER_PROCESS_ENV, str(defaults.gpus_per_process)), GPUS_PER_PROCESS_ENV),
        training_cpu=text(TRAINING_CPU_ENV, defaults.training_cpu),
        training_memory=text(TRAINING_MEMORY_ENV, defaults.training_memory),
        training_node_selector=parse_node_selector(environ.get(TRAINING_NODE_SELECTOR_ENV, "")),
        training_tolerations=parse_tolerations(environ.get(TRAINING_TOLERATIONS_ENV, "")),
        step_cpu=text(STEP_CPU_ENV, defaults.step_cpu),
        step_memory=text(STEP_MEMORY_ENV, defaults.step_memory),
    )
