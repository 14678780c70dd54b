"""checkpoint: the GPU step. Training runs as its own process, launched through Dagster Pipes."""

import dataclasses
import json
import os
import sys
import typing

import dagster as dg
import pydantic

from llm_pipeline.defs.assets.model_inputs import base_model, tokenized
from llm_pipeline.defs.launchers import TrainingLauncher
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.stages.base_model.reference import read_model_ref
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.curve import CurvePoint
from llm_pipeline.training.diagnosis import diagnose
from llm_pipeline.training.plot import png_markdown, render_curve_png

TRAINING_GROUP = "training"
CHECKPOINT_DIR_NAME = "checkpoint"
RUN_CONFIG_FILE = "run_config.json"
# Filled in by the asset from the data directory, not by the user.
RUN_PATH_FIELDS = ("base_model", "tokenized_path", "output_dir")
# A crashed or killed trainer is launched again; it resumes from its last complete checkpoint.
TRAINING_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5)


def _config_class_from(dataclass_type: type) -> type[dg.Config]:
    """A Dagster Config with every hyperparameter of TrainingConfig, its default and its help text.

    Generated rather than written out twice, so the launchpad and the launched trainer can never
    disagree about a field's name or default.
    """
    hints = typing.get_type_hints(dataclass_type)
    fields = {}
    for field in dataclasses.fields(dataclass_type):
        if field.name in RUN_PATH_FIELDS:
            continue
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        fields[field.name] = (hints[field.name], pydantic.Field(default=default, description=field.metadata["help"]))
    return pydantic.create_model("TrainConfig", __base__=dg.Config, **fields)


TrainConfig = _config_class_from(TrainingConfig)


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
    training = TrainingConfig(
        **config.model_dump(),
        base_model=read_model_ref(layout.models),
        tokenized_path=str(layout.stage("tokenized")),
        output_dir=str(output_dir),
    ).validate()
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


def memory_markdown(metadata: dict) -> str:
    """The preflight estimate, part by part, next to the measured peak."""
    estimate = metadata["memory_estimate"].value if "memory_estimate" in metadata else {}
    peak = metadata["peak_memory_mb"].value if "peak_memory_mb" in metadata else float("nan")
    rows = ["| part | MiB |", "|---|---:|"]
    rows += [f"| estimate: {name} | {value:,.1f} |" for name, value in estimate.items()]
    rows.append(f"| measured peak | {peak:,.1f} |")
    return "\n".join(rows)


def curve_metadata(points: list[dict], method: str) -> dict[str, dg.MetadataValue]:
    """The learning curve as a table and a plot, and the fit diagnosis in words."""
    curve = [CurvePoint(point["step"], point.get("train_loss"), point.get("eval_loss")) for point in points]
    diagnosis = diagnose(curve)
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("step", "int"),
            dg.TableColumn("train_loss", "float"),
            dg.TableColumn("validation_loss", "float"),
        ]
    )
    rows = [
        dg.TableRecord({"step": point.step, "train_loss": point.train_loss, "validation_loss": point.eval_loss})
        for point in curve
    ]
    png = render_curve_png(curve, title=f"{method} fine-tune: {diagnosis.verdict}")
    return {
        "learning_curve_table": dg.MetadataValue.table(rows, schema=schema),
        "learning_curve_plot": dg.MetadataValue.md(png_markdown(png)),
        "diagnosis": dg.MetadataValue.text(diagnosis.verdict),
        "diagnosis_reasons": dg.MetadataValue.md("\n".join(f"- {reason}" for reason in diagnosis.reasons)),
        "best_step": dg.MetadataValue.int(diagnosis.best_step)
        if diagnosis.best_step is not None
        else dg.MetadataValue.text("n/a"),
        "best_eval_loss": _float_or_na(diagnosis.best_eval_loss),
        "generalization_gap": _float_or_na(diagnosis.gap),
        "learning_curve": dg.MetadataValue.json(json.loads(json.dumps(points))),
    }


def _float_or_na(value: float | None) -> dg.MetadataValue:
    return dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.text("n/a")
