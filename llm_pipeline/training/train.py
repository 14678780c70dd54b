"""The launched trainer: `python -m llm_pipeline.training.train --config CONFIG.json`.

Also runs under `accelerate launch ... -m llm_pipeline.training.train --config CONFIG.json` or
`torchrun`. It loads the tokenized splits and the base model, trains with the transformers
`Trainer`, saves the final model (for LoRA/QLoRA: the adapter) and tokenizer to
`output_dir/final`, and reports progress and a final materialization through a `Reporter`:
Dagster Pipes when Dagster launched the process, JSON lines on stdout otherwise. Only the main
process (rank 0) reports. This module does not import dagster; `dagster_pipes` is imported only
when the process runs under Pipes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.curve import CurvePoint, curve_from_log_history
from llm_pipeline.training.tiny_model import replace_dir

MODEL_COLUMNS = ("input_ids", "attention_mask", "labels")
IGNORE_INDEX = -100
FINAL_DIR_NAME = "final"

# The keys of the final report, in the order a person reads them.
METADATA_KEYS = (
    "method",
    "learning_curve",
    "final_train_loss",
    "final_eval_loss",
    "model_path",
    "peak_memory_mb",
    "train_runtime_s",
    "trainable_params",
    "total_params",
    "global_steps",
    "device",
)


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------


class Reporter(Protocol):
    """Where the trainer's progress and final metrics go."""

    def progress(self, step: int, logs: Mapping[str, Any]) -> None:
        """One logging step: the Trainer's log dict (loss, eval_loss, learning_rate, ...)."""

    def final(self, metadata: Mapping[str, Any]) -> None:
        """The end of training: `METADATA_KEYS` with plain Python values."""

    def close(self, error: BaseException | None = None) -> None:
        """Flush and release; `error` is the exception that ended the run, if any."""


class PrintReporter:
    """JSON lines on stdout: `{"event": "progress", ...}` and `{"event": "final", "metadata": ...}`."""

    def __init__(self, stream=None) -> None:
        self._stream = stream

    def _emit(self, payload: dict[str, Any]) -> None:
        print(json.dumps(payload), file=self._stream or sys.stdout, flush=True)

    def progress(self, step: int, logs: Mapping[str, Any]) -> None:
        self._emit({"event": "progress", "step": step, **logs})

    def final(self, metadata: Mapping[str, Any]) -> None:
        self._emit({"event": "final", "metadata": dict(metadata)})

    def close(self, error: BaseException | None = None) -> None:
        if error is not None:
            self._emit({"event": "error", "error": f"{type(error).__name__}: {error}"})


class MemoryReporter:
    """Keeps every event in lists; for in-process callers and tests."""

    def __init__(self) -> None:
        self.progress_events: list[tuple[int, dict[str, Any]]] = []
        self.final_metadata: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def progress(self, step: int, logs: Mapping[str, Any]) -> None:
        self.progress_events.append((step, dict(logs)))

    def final(self, metadata: Mapping[str, Any]) -> None:
        self.final_metadata = dict(metadata)

    def close(self, error: BaseException | None = None) -> None:
        self.error = error


class NullReporter:
    """For processes other than the main one: they train but do not report."""

    def progress(self, step: int, logs: Mapping[str, Any]) -> None:
        pass

    def final(self, metadata: Mapping[str, Any]) -> None:
        pass

    def close(self, error: BaseException | None = None) -> None:
        pass


class PipesReporter:
    """Reports to the Dagster run that launched this process, through Dagster Pipes.

    Progress lines go to `pipes.log.info` (they show in the run's log); the final metrics become
    the asset's materialization metadata. An exception is sent back with the closing message.
    """

    # Pipes infers a type from a raw value; these keys get an explicit one so the UI shows a
    # JSON table and a path.
    _TYPED_KEYS = {"learning_curve": "json", "model_path": "path"}

    def __init__(self, pipes=None) -> None:
        if pipes is None:
            from dagster_pipes import open_dagster_pipes

            pipes = open_dagster_pipes()
        self._pipes = pipes

    def progress(self, step: int, logs: Mapping[str, Any]) -> None:
        self._pipes.log.info(json.dumps({"step": step, **logs}))

    def final(self, metadata: Mapping[str, Any]) -> None:
        self._pipes.report_asset_materialization(metadata=self.to_pipes_metadata(metadata))

    @classmethod
    def to_pipes_metadata(cls, metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: {"raw_value": value, "type": cls._TYPED_KEYS[key]} if key in cls._TYPED_KEYS else value
            for key, value in metadata.items()
        }

    def close(self, error: BaseException | None = None) -> None:
        if error is None:
            self._pipes.close()
        else:
            self._pipes.__exit__(type(error), error, error.__traceback__)


def is_main_process() -> bool:
    """Rank 0 of a distributed launch (accelerate, torchrun set RANK / LOCAL_RANK), or a lone process."""
    for variable in ("RANK", "LOCAL_RANK"):
        if variable in os.environ:
            return int(os.environ[variable]) == 0
    return True


def is_dagster_pipes_process() -> bool:
    """Whether Dagster launched this process through Pipes (it sets the Pipes context variable)."""
    try:
        from dagster_pipes import PipesEnvVarParamsLoader
    except ImportError:
        return False
    return PipesEnvVarParamsLoader().is_dagster_pipes_process()


def default_reporter() -> Reporter:
    if not is_main_process():
        return NullReporter()
    if is_dagster_pipes_process():
        return PipesReporter()
    return PrintReporter()


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


@dataclass
class TrainingResult:
    metadata: dict[str, Any]
    curve: list[CurvePoint]
    model_path: Path
    log_history: list[dict[str, Any]] = field(default_factory=list)
    model: Any = field(default=None, repr=False)
    """The trained model object, for in-process callers that inspect weights."""


class PadCollator:
    """Pads a batch to its longest record: `input_ids` with the pad id, the mask with 0, labels with -100."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(feature["input_ids"]) for feature in features)
        padding = {"input_ids": self.pad_token_id, "attention_mask": 0, "labels": IGNORE_INDEX}
        batch = {}
        for name, pad in padding.items():
            rows = [list(feature[name]) + [pad] * (longest - len(feature[name])) for feature in features]
            batch[name] = torch.tensor(rows, dtype=torch.long)
        return batch


def run_training(config: TrainingConfig, reporter: Reporter) -> TrainingResult:
    """Train according to `config`, report through `reporter`, return the curve and final metadata."""
    import datasets
    import torch
    from transformers import AutoTokenizer, Trainer, TrainerCallback, TrainingArguments, set_seed
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_utils import get_last_checkpoint

    from llm_pipeline.training.model import bf16_available, build_model

    config.validate()
    set_seed(config.seed)
    train_split, eval_split = _load_splits(datasets.load_from_disk(config.tokenized_path), config.tokenized_path)

    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    if tokenizer.pad_token_id is None:
        # Padded positions are masked out of attention and loss, so any id works; EOS is always there.
        tokenizer.pad_token = tokenizer.eos_token
    model = build_model(config)

    cuda = torch.cuda.is_available()
    args = TrainingArguments(
        output_dir=config.output_dir,
        per_device_train_batch_size=config.per_device_train_batch_size,
        per_device_eval_batch_size=config.per_device_eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        logging_strategy="steps",
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        bf16=bf16_available(),
        use_cpu=not cuda,
        dataloader_pin_memory=cuda,
        remove_unused_columns=False,  # the splits hold exactly the model's columns (see _load_splits)
        disable_tqdm=True,
        report_to="none",
    )

    class ReportingCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                reporter.progress(state.global_step, {key: _plain(value) for key, value in logs.items()})

    trainer = Trainer(
        model=model,
        args=args,
        data_collator=PadCollator(tokenizer.pad_token_id),
        train_dataset=train_split,
        eval_dataset=eval_split,
        processing_class=tokenizer,
        callbacks=[ReportingCallback()],
    )
    trainer.remove_callback(PrinterCallback)  # the reporter prints; no second, unstructured copy

    resume = None
    if config.resume_from_checkpoint and Path(config.output_dir).is_dir():
        resume = get_last_checkpoint(config.output_dir)
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume)
    runtime = time.perf_counter() - started

    # The curve must end with the validation loss of the model that is saved.
    last_eval_step = max((e["step"] for e in trainer.state.log_history if "eval_loss" in e), default=None)
    if last_eval_step != trainer.state.global_step:
        trainer.evaluate()
    curve = curve_from_log_history(trainer.state.log_history)

    model_path = _save_final(trainer, tokenizer, Path(config.output_dir))
    trainable, total = _count_parameters(trainer.model)
    train_losses = [p.train_loss for p in curve if p.train_loss is not None]
    eval_losses = [p.eval_loss for p in curve if p.eval_loss is not None]
    metadata = {
        "method": config.method,
        "learning_curve": [point.to_dict() for point in curve],
        # The last logged loss, not the Trainer's whole-run average; the average only when nothing was logged.
        "final_train_loss": float(train_losses[-1]) if train_losses else float(output.training_loss),
        "final_eval_loss": float(eval_losses[-1]) if eval_losses else math.nan,
        "model_path": str(model_path),
        "peak_memory_mb": peak_memory_mb(trainer.args.device),
        "train_runtime_s": round(runtime, 3),
        "trainable_params": int(trainable),
        "total_params": int(total),
        "global_steps": int(trainer.state.global_step),
        "device": _describe_device(trainer.args.device),
    }
    if trainer.is_world_process_zero():
        reporter.final(metadata)
    return TrainingResult(metadata, curve, model_path, list(trainer.state.log_history), trainer.model)


def _load_splits(splits, path: str):
    missing = [name for name in ("train", "validation") if name not in splits]
    if missing:
        raise ValueError(f"{path} has no {' or '.join(missing)} split (it has: {', '.join(splits)})")
    selected = []
    for name in ("train", "validation"):
        split = splits[name]
        absent = [column for column in MODEL_COLUMNS if column not in split.column_names]
        if absent:
            raise ValueError(f"split {name!r} of {path} lacks column(s) {', '.join(absent)}")
        if len(split) == 0:
            raise ValueError(f"split {name!r} of {path} is empty")
        # id/source stay on disk for traceability; the model gets only what it takes.
        selected.append(split.select_columns(list(MODEL_COLUMNS)))
    return selected[0], selected[1]


def _save_final(trainer, tokenizer, output_dir: Path) -> Path:
    """Save the model (LoRA: the adapter only) and tokenizer to `output_dir/final`, atomically."""
    final = output_dir / FINAL_DIR_NAME
    staging = output_dir / f".{FINAL_DIR_NAME}.staging"
    if trainer.is_world_process_zero() and staging.exists():
        shutil.rmtree(staging)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(staging))  # every rank calls it (sharded states gather); rank 0 writes
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(staging))
        replace_dir(staging, final)
    trainer.accelerator.wait_for_everyone()
    return final.resolve()


def _count_parameters(model) -> tuple[int, int]:
    if hasattr(model, "get_nb_trainable_parameters"):  # peft: counts 4-bit packed weights correctly
        return model.get_nb_trainable_parameters()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def peak_memory_mb(device) -> float:
    """Peak CUDA memory allocated by tensors on a GPU; otherwise the process' peak resident memory."""
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return max_rss / 2**20 if sys.platform == "darwin" else max_rss / 2**10


def _describe_device(device) -> str:
    import torch

    if getattr(device, "type", None) == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def _plain(value: Any) -> Any:
    """A log value as a JSON-friendly Python scalar (tensors and numpy numbers become floats)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_pipeline.training.train", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="path of a TrainingConfig JSON file")
    arguments = parser.parse_args(argv)
    config = TrainingConfig.from_json(arguments.config).validate()
    reporter = default_reporter()
    try:
        run_training(config, reporter)
    except BaseException as error:
        reporter.close(error)
        raise
    reporter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
