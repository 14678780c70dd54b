"""checkpoint: the GPU step. Training runs as its own process, launched through Dagster Pipes."""

import json
import os
import sys
from pathlib import Path

import dagster as dg

from llm_pipeline.defs.config import config_class
from llm_pipeline.defs.launchers import TrainingLauncher
from llm_pipeline.defs.metadata import curve_metadata, memory_markdown
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.defs.stage_settings import overrides_metadata, run_settings, stage_code_version
from llm_pipeline.stages.base_model.reference import model_ref_trusts_code, read_model_ref
from llm_pipeline.training.checkpoints import finished_run_summary, run_fingerprint
from llm_pipeline.training.config import RUN_FIELDS, TrainingConfig
from llm_pipeline.training.train import FAILURE_FILE, FINAL_DIR_NAME, SUMMARY_FILE

TRAINING_GROUP = "training"
CHECKPOINT_DIR_NAME = "checkpoint"
RUN_CONFIG_FILE = "run_config.json"
# A crashed or killed trainer is launched again; it resumes from its last complete checkpoint.
# A config error is not retried: the step fails at once with `dg.Failure(allow_retries=False)`.
TRAINING_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5)


def training_settings(
    context: dg.AssetExecutionContext, config: dg.Config, project_settings: TrainingConfig, **run_fields: object
) -> tuple[TrainingConfig, dict]:
    """The trainer's config from the run's config and the run fields (paths, base model), checked
    before anything is launched.

    The launchpad has already checked every field's type and choices; what `validate` finds
    (a negative learning rate, say) fails the step once, without the retries meant for a
    crashed trainer: the same config would fail the same way on every attempt.
    """
    try:
        training, overrides = run_settings(
            context, config, TrainingConfig, project_settings, exclude=RUN_FIELDS, **run_fields
        )
        return training.validate(), overrides
    except ValueError as error:
        raise dg.Failure(description=f"checkpoint config: {error}", allow_retries=False) from error


def launch_command(config_path: str, num_processes: int = 1) -> list[str]:
    """The trainer module with this interpreter (so the venv is the same), one process, or several
    through accelerate's multi-process launcher (torchrun underneath): one per GPU over NCCL, or
    CPU processes over gloo when there is no GPU.

    One process is the trainer itself, with no launcher between: the interrupt Dagster sends when
    a run is terminated reaches the process that trains, and no trainer is left behind writing
    checkpoints. torchrun passes it on to its workers.
    """
    trainer = ["-m", "llm_pipeline.training.train", "--config", config_path]
    if num_processes == 1:
        return [sys.executable, *trainer]
    return [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", str(num_processes), "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        *trainer,
    ]  # fmt: skip


STAGE_MODULE = "llm_pipeline.training.train"
# Third-party code that decides the weights: a new version gives the checkpoint a new code version.
TRAINING_LIBRARIES = ("torch", "transformers", "peft", "accelerate", "bitsandbytes")


def checkpoint_asset(project_settings: TrainingConfig) -> dg.AssetsDefinition:
    """The checkpoint asset; its config defaults to the project file's `checkpoint` section."""
    train_config = config_class(TrainingConfig, "TrainConfig", exclude=RUN_FIELDS, defaults=project_settings)

    @dg.asset(
        group_name=TRAINING_GROUP,
        kinds={"pytorch", "huggingface"},
        code_version=stage_code_version(STAGE_MODULE, project_settings, libraries=TRAINING_LIBRARIES),
        deps=["tokenized", "base_model"],
        pool="gpu",
        retry_policy=TRAINING_RETRY_POLICY,
        tags={"compute": "gpu"},
        op_tags={"llm_pipeline/device": "gpu"},
        description="Fine-tuned model or adapter (full / LoRA / QLoRA), trained in a launched process; learning curve "
        "and diagnosis in metadata. A finished run of the same data, base model and settings is reused, not retrained.",
    )
    def checkpoint(
        context: dg.AssetExecutionContext,
        config: train_config,
        data_dir: DataDirResource,
        training_launcher: TrainingLauncher,
    ) -> dg.MaterializeResult:
        # One writer of models/checkpoint per data directory, for the whole launch (storage.locks).
        with data_dir.writing(context, CHECKPOINT_DIR_NAME) as layout:
            output_dir = layout.models / CHECKPOINT_DIR_NAME
            training, overrides = training_settings(
                context,
                config,
                project_settings,
                base_model=read_model_ref(layout.models),
                trust_remote_code=model_ref_trusts_code(layout.models),
                tokenized_path=str(layout.stage("tokenized")),
                output_dir=str(output_dir),
            )
            fingerprint = run_fingerprint(training)
            finished = finished_run_summary(output_dir / FINAL_DIR_NAME, SUMMARY_FILE, fingerprint)
            if finished is not None:
                context.log.info(
                    f"reusing the finished {training.method} run in {output_dir / FINAL_DIR_NAME}: same data, base model "
                    f"and settings (run fingerprint {fingerprint[:12]}), so it is not trained again"
                )
                metadata = reused_run_metadata(finished)
            else:
                metadata = launch_training(context, training_launcher, training, output_dir)
            return dg.MaterializeResult(
                data_version=dg.DataVersion(fingerprint[:32]),
                metadata={
                    **metadata,
                    "reused": dg.MetadataValue.bool(finished is not None),
                    "base_model": dg.MetadataValue.text(training.base_model),
                    **curve_metadata(metadata["learning_curve"].value, training.method),
                    "memory_estimate_vs_peak": dg.MetadataValue.md(memory_markdown(metadata)),
                    **overrides_metadata(overrides),
                },
            )

    return checkpoint


def launch_training(
    context: dg.AssetExecutionContext, launcher: TrainingLauncher, training: TrainingConfig, output_dir: Path
) -> dict[str, dg.MetadataValue]:
    """Run the trainer in its own process and return the metadata it reported through Pipes.

    Checkpoints of an earlier run stay: the trainer resumes from them when they belong to this
    same run (config and data), and clears them otherwise (llm_pipeline.training.checkpoints).
    """
    config_path = training.to_json(output_dir / RUN_CONFIG_FILE)
    # Only what the trainer needs beyond its own environment: a training pod must not inherit the step's.
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = launch_command(str(config_path), training.num_processes)
    if context.retry_number:
        context.log.info(f"attempt {context.retry_number + 1}: the trainer resumes from its last complete checkpoint")
    context.log.info(f"launching {training.method} training: {' '.join(command)}")
    failure_file = output_dir / FAILURE_FILE
    failure_file.unlink(missing_ok=True)  # only this launch's failure may speak for it
    try:
        reported = launcher.launch(context, command, env, processes=training.num_processes).get_materialize_result()
    except Exception as error:
        failure = read_failure(failure_file)
        if failure is None:  # killed, or failed before it could say why: a retry resumes it
            raise
        # The trainer's own first error line, and a retry only where one could help.
        raise dg.Failure(
            description=f"training failed: {failure['error']}", allow_retries=bool(failure.get("retry"))
        ) from error
    return dict(reported.metadata or {})


def read_failure(path: Path) -> dict | None:
    """What the trainer wrote about its failure (train.write_failure), if it wrote anything."""
    try:
        failure = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return failure if isinstance(failure, dict) and "error" in failure else None


def reused_run_metadata(summary: dict) -> dict[str, dg.MetadataValue]:
    """The final report of the reused run as the metadata a launched run reports, plus a plain note."""
    metadata = {key: summary_value(key, value) for key, value in summary.items()}
    metadata["note"] = dg.MetadataValue.text(
        "Reused: a finished run with the same data, base model and settings was found, so nothing was trained; "
        "the curve and losses are that run's."
    )
    return metadata


def summary_value(key: str, value: object) -> dg.MetadataValue:
    """One value of a final report as the metadata type Pipes gives it (reporters.PipesReporter)."""
    if key == "model_path":
        return dg.MetadataValue.path(str(value))
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, (dict, list)):
        return dg.MetadataValue.json(value)
    return dg.MetadataValue.text(str(value))
