"""checkpoint: the GPU step. Training runs as its own process, launched through Dagster Pipes."""

import os
import sys

import dagster as dg

from llm_pipeline.defs.assets.base_model import base_model
from llm_pipeline.defs.assets.tokenized import tokenized
from llm_pipeline.defs.config import config_class, to_settings
from llm_pipeline.defs.launchers import TrainingLauncher
from llm_pipeline.defs.metadata import curve_metadata, memory_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.reference import read_model_ref
from llm_pipeline.training.config import TrainingConfig

TRAINING_GROUP = "training"
CHECKPOINT_DIR_NAME = "checkpoint"
RUN_CONFIG_FILE = "run_config.json"
# Filled in by the asset from the data directory, not by the user.
RUN_PATH_FIELDS = ("base_model", "tokenized_path", "output_dir")
# A crashed or killed trainer is launched again; it resumes from its last complete checkpoint.
# A config error is not retried: the step fails at once with `dg.Failure(allow_retries=False)`.
TRAINING_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5)


TrainConfig = config_class(TrainingConfig, "TrainConfig", exclude=RUN_PATH_FIELDS)


def training_config(config: dg.Config, **run_paths: str) -> TrainingConfig:
    """The trainer's config from the launchpad's and the run paths, checked before anything is launched.

    The launchpad has already checked every field's type and choices; what `validate` finds
    (a negative learning rate, say) fails the step once, without the retries meant for a
    crashed trainer: the same config would fail the same way on every attempt.
    """
    try:
        return to_settings(config, TrainingConfig, **run_paths).validate()
    except ValueError as error:
        raise dg.Failure(description=f"checkpoint config: {error}", allow_retries=False) from error


def launch_command(config_path: str, num_processes: int = 1) -> list[str]:
    """`accelerate launch` of the trainer module with this interpreter, so the venv is the same.

    Several processes go through accelerate's multi-process launcher (torchrun underneath): one
    per GPU over NCCL, or CPU processes over gloo when there is no GPU.
    """
    distributed = ["--multi_gpu"] if num_processes > 1 else []
    return [
        sys.executable, "-m", "accelerate.commands.launch", *distributed,
        "--num_processes", str(num_processes), "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        "-m", "llm_pipeline.training.train", "--config", config_path,
    ]  # fmt: skip


@dg.asset(
    group_name=TRAINING_GROUP,
    kinds={"pytorch", "huggingface"},
    deps=[tokenized, base_model],
    pool="gpu",
    retry_policy=TRAINING_RETRY_POLICY,
    tags={"compute": "gpu"},
    op_tags={"llm_pipeline/device": "gpu"},
    description="Fine-tuned model or adapter (full / LoRA / QLoRA), trained in a launched process; learning curve and diagnosis in metadata.",
)
def checkpoint(
    context: dg.AssetExecutionContext,
    config: TrainConfig,  # type: ignore[valid-type]
    data_dir: DataDirResource,
    training_launcher: TrainingLauncher,
) -> dg.MaterializeResult:
    layout = data_dir.layout
    output_dir = layout.models / CHECKPOINT_DIR_NAME
    training = training_config(
        config,
        base_model=read_model_ref(layout.models),
        tokenized_path=str(layout.stage("tokenized")),
        output_dir=str(output_dir),
    )
    # Checkpoints of an earlier run stay: the trainer resumes from them when they belong to this
    # same run (config and data), and clears them otherwise (llm_pipeline.training.checkpoints).
    config_path = training.to_json(output_dir / RUN_CONFIG_FILE)
    # Only what the trainer needs beyond its own environment: a training pod must not inherit the step's.
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = launch_command(str(config_path), training.num_processes)
    if context.retry_number:
        context.log.info(f"attempt {context.retry_number + 1}: the trainer resumes from its last complete checkpoint")
    context.log.info(f"launching {training.method} training: {' '.join(command)}")
    reported = training_launcher.launch(
        context, command, env, processes=training.num_processes
    ).get_materialize_result()
    metadata = dict(reported.metadata or {})
    return dg.MaterializeResult(
        metadata={
            **metadata,
            **curve_metadata(metadata["learning_curve"].value, training.method),
            "memory_estimate_vs_peak": dg.MetadataValue.md(memory_markdown(metadata)),
        }
    )
