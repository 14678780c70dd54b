"""The launched trainer: `python -m llm_pipeline.training.train --config CONFIG.json`.

Also runs under `accelerate launch ... -m llm_pipeline.training.train --config CONFIG.json` or
`torchrun`. In order: it decides whether to resume (the newest complete checkpoint of the same
run, `checkpoints.py`), checks that the plan fits in memory (`memory.py`) before loading
anything, builds the model (`model.py`), proves on it that packed records stay apart
(`collate.py`), trains with the transformers `Trainer`, marks each checkpoint complete once
written, saves the final model (for LoRA/QLoRA: the adapter), tokenizer (the tokenized stage's,
with the chat template that rendered the rows: `tokenizer_source`) and report to `output_dir/final`, and reports progress and a final materialization through a `Reporter`
(`reporters.py`): Dagster Pipes when Dagster launched the process, JSON lines on stdout
otherwise. Only the main process (rank 0) reports. This module does not import dagster.
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
from typing import Any

from llm_pipeline.progress import training_progress_line
from llm_pipeline.storage.atomic import replace_dir
from llm_pipeline.storage.fingerprint import saved_dataset_digest
from llm_pipeline.token_rows import CONTENT_DIGEST_FILE, TOKENIZER_DIR
from llm_pipeline.training.checkpoints import checkpoint_step, mark_complete, prepare_output_dir, run_fingerprint
from llm_pipeline.training.collate import PackedCollator, PadCollator, check_packed_isolation
from llm_pipeline.training.config import TrainingConfig
from llm_pipeline.training.curve import CurvePoint, curve_from_log_history
from llm_pipeline.training.disk import DiskFullError, disk_full_error
from llm_pipeline.training.exact_eval import with_exact_eval_loss
from llm_pipeline.training.finite import NonFiniteTrainingError, require_finite_parameters, with_finite_loss
from llm_pipeline.training.guard import end_when_step_ends, hold_output_folder
from llm_pipeline.training.memory import MemoryPlanError
from llm_pipeline.training.reporters import Reporter, default_reporter, is_main_process

MODEL_COLUMNS = ("input_ids", "attention_mask", "labels")
PACKED_MODEL_COLUMNS = ("input_ids", "position_ids", "labels")
FINAL_DIR_NAME = "final"
SUMMARY_FILE = "training_summary.json"
"""Saved with the final model: the final report, for the model card of the merged model."""
FINAL_CONFIG_FILE = "training_config.json"
"""Saved with the final model: the TrainingConfig it was trained with (what merged_model exports it as)."""
FAILURE_FILE = "training_failure.json"
"""Written to `output_dir` when the trainer fails: the error's first line and whether a retry could help."""
TENSORBOARD_DIR_NAME = "tensorboard"

# The keys of the final report, in the order a person reads them.
METADATA_KEYS = (
    "method",
    "learning_curve",
    "final_train_loss",
    "final_eval_loss",
    "model_path",
    "peak_memory_mb",
    "memory_estimate_mb",
    "memory_estimate",
    "train_runtime_s",
    "trainable_params",
    "total_params",
    "global_steps",
    "resumed_from_step",
    "best_checkpoint",
    "precision",
    "packed",
    "processes",
    "parallelism",
    "device",
    "run_fingerprint",
    "effective_batch_rows",
    "effective_batch_tokens",
)


@dataclass
class TrainingResult:
    metadata: dict[str, Any]
    curve: list[CurvePoint]
    model_path: Path
    log_history: list[dict[str, Any]] = field(default_factory=list)
    model: Any = field(default=None, repr=False)
    """The trained model object, for in-process callers that inspect weights."""


def run_training(config: TrainingConfig, reporter: Reporter) -> TrainingResult:
    """Train according to `config`, report through `reporter`, return the curve and final metadata."""
    import datasets
    import torch
    from transformers import (
        AutoTokenizer,
        EarlyStoppingCallback,
        Trainer,
        TrainerCallback,
        set_seed,
    )
    from transformers.trainer_callback import PrinterCallback

    from llm_pipeline.training.model import build_model, resolve_precision

    config.validate()
    set_seed(config.seed)
    check_tokenized_bytes(Path(config.tokenized_path))
    train_split, eval_split = _load_splits(datasets.load_from_disk(config.tokenized_path), config.tokenized_path)
    packed = "position_ids" in train_split.column_names
    precision = resolve_precision(config.precision)
    cuda = torch.cuda.is_available()
    output_dir = Path(config.output_dir)
    if config.tensorboard:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(output_dir / TENSORBOARD_DIR_NAME)

    if config.fsdp and not cuda:
        # accelerate turns a CPU launch with an FSDP plugin into plain DDP; say so instead of pretending.
        raise ValueError(
            "fsdp shards the model over CUDA devices; on a machine without GPUs the processes can only run DDP: set fsdp: false"
        )
    args = training_arguments(config, precision, cuda)  # joins the process group of a distributed launch
    effective_batch_rows = check_accumulation(config, len(train_split), args.world_size)
    # Tokens per optimizer step, on average over an epoch (rows differ in length; padding not counted).
    effective_batch_tokens = round(effective_batch_rows * _mean_row_tokens(train_split))

    # One process decides (and clears stale checkpoints) first; the others then read the same answer.
    fingerprint = run_fingerprint(config)
    with args.main_process_first(desc="checkpoint folder"):
        resume = prepare_output_dir(output_dir, fingerprint, config.resume_from_checkpoint)

    sequence_length = max(_longest_row(train_split), _longest_row(eval_split))
    estimate = None
    if config.memory_preflight:
        estimate = preflight(config, precision, sequence_length, args.device.type, args.world_size)

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source(config), trust_remote_code=config.trust_remote_code)
    if tokenizer.pad_token_id is None:
        # Padded positions are masked out of attention and loss, so any id works; EOS is always there.
        tokenizer.pad_token = tokenizer.eos_token
    model = build_model(config)
    check_token_ids({"train": train_split, "validation": eval_split}, model.get_input_embeddings().num_embeddings)
    if packed:
        check_packed_isolation(model, vocab_size=min(len(tokenizer), model.config.vocab_size))
    collator = (PackedCollator if packed else PadCollator)(tokenizer.pad_token_id)

    # The Trainer counts the input tokens (summed over processes, restored on resume). It leaves
    # padding out where it can tell it apart: by the attention mask of padded records, or by the
    # pad id in packed rows, unless that id is EOS, which every record also ends with.
    counts_padding = packed and tokenizer.pad_token_id == tokenizer.eos_token_id
    args.include_num_input_tokens_seen = "all" if counts_padding else "non_padding"

    class ReportingCallback(TrainerCallback):
        """Hands the reporter each log and its readable line: step of max_steps, tokens/s, elapsed, ETA."""

        def __init__(self) -> None:
            self.started: float | None = None
            self.start_step = 0
            self.start_tokens = 0

        def on_train_begin(self, args, state, control, **kwargs):
            # Rates count from here: after a resume, the restored steps took no time in this process.
            self.started = time.perf_counter()
            self.start_step = state.global_step
            self.start_tokens = state.num_input_tokens_seen

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                plain = {key: _plain(value) for key, value in logs.items()}
                line = training_progress_line(
                    state.global_step,
                    state.max_steps,
                    plain,
                    elapsed_s=None if self.started is None else time.perf_counter() - self.started,
                    start_step=self.start_step,
                    tokens_since_start=state.num_input_tokens_seen - self.start_tokens,
                    tokens_include_padding=counts_padding,
                )
                reporter.progress(state.global_step, plain, line)

    class CompletionMarkerCallback(TrainerCallback):
        """Marks a checkpoint complete once every process has written its part of it."""

        def on_save(self, args, state, control, **kwargs):
            trainer.accelerator.wait_for_everyone()
            if not trainer.is_fsdp_enabled:  # every process holds the same weights: each finds the same answer
                require_finite_parameters(trainer.model, f"checkpoint-{state.global_step}")
            if state.is_world_process_zero:
                mark_complete(output_dir / f"checkpoint-{state.global_step}", state.global_step, fingerprint)
            trainer.accelerator.wait_for_everyone()

    callbacks = [ReportingCallback(), CompletionMarkerCallback()]
    if config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = with_exact_eval_loss(with_finite_loss(Trainer))(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_split,
        eval_dataset=eval_split,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # the reporter prints; no second, unstructured copy

    resumed_from_step = checkpoint_step(resume) if resume is not None else 0  # before rotation deletes it
    if resume is not None and trainer.is_world_process_zero():
        reporter.progress(resumed_from_step, {"resumed_from": str(resume)})
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    runtime = time.perf_counter() - started

    # The curve must end with the validation loss of the model that is saved; with the best
    # checkpoint kept, that loss is already on the curve, at the best step.
    last_eval_step = max((e["step"] for e in trainer.state.log_history if "eval_loss" in e), default=None)
    if last_eval_step != trainer.state.global_step and not args.load_best_model_at_end:
        trainer.evaluate()
    curve = curve_from_log_history(trainer.state.log_history)

    trainable, total = _count_parameters(trainer.model)
    train_losses = [p.train_loss for p in curve if p.train_loss is not None]
    eval_losses = [p.eval_loss for p in curve if p.eval_loss is not None]
    peak = peak_memory_mb(trainer.args.device)
    metadata = {
        "method": config.method,
        "learning_curve": [point.to_dict() for point in curve],
        # The last logged loss, not the Trainer's whole-run average; the average only when nothing was logged.
        "final_train_loss": float(train_losses[-1]) if train_losses else float(output.training_loss),
        "final_eval_loss": _final_eval_loss(trainer.state, eval_losses, args.load_best_model_at_end),
        "model_path": str((output_dir / FINAL_DIR_NAME).resolve()),
        "peak_memory_mb": peak,
        "memory_estimate_mb": estimate.to_mb()["total"] if estimate else math.nan,
        "memory_estimate": estimate.to_mb() if estimate else {},
        "train_runtime_s": round(runtime, 3),
        "trainable_params": int(trainable),
        "total_params": int(total),
        "global_steps": int(trainer.state.global_step),
        "resumed_from_step": resumed_from_step,
        "best_checkpoint": trainer.state.best_model_checkpoint or "",
        "precision": precision,
        "packed": packed,
        "processes": int(args.world_size),
        "parallelism": "fsdp" if trainer.is_fsdp_enabled else ("ddp" if args.world_size > 1 else "one process"),
        "device": _describe_device(trainer.args.device),
        # What a later run compares to reuse this finished model instead of training again.
        "run_fingerprint": fingerprint,
        "effective_batch_rows": effective_batch_rows,
        "effective_batch_tokens": effective_batch_tokens,
    }
    if not trainer.is_fsdp_enabled:
        require_finite_parameters(trainer.model, "the final model")
    model_path = _save_final(trainer, tokenizer, output_dir, metadata, config)
    if trainer.is_world_process_zero():
        reporter.final(metadata)
    return TrainingResult(metadata, curve, model_path, list(trainer.state.log_history), trainer.model)


def _final_eval_loss(state, eval_losses: list[float], kept_best: bool) -> float:
    """The validation loss of the saved model: the best one's when the best checkpoint was kept."""
    if kept_best and state.best_metric is not None:
        return float(state.best_metric)
    return float(eval_losses[-1]) if eval_losses else math.nan


def tokenizer_source(config: TrainingConfig) -> str:
    """Where the tokenizer comes from: the one the tokenized stage saved with the rows (its chat
    template is the one that rendered them, and the Trainer saves it into every checkpoint and the
    final model), else the base model's, for splits tokenized by other means."""
    saved = Path(config.tokenized_path) / TOKENIZER_DIR
    return str(saved) if saved.is_dir() else config.base_model


def check_tokenized_bytes(path: Path) -> None:
    """Refuse tokenized splits whose Arrow files are not the bytes the tokenized stage wrote (a
    corruption of the same size changes no name, size or version stamp)."""
    recorded = path / CONTENT_DIGEST_FILE
    if not recorded.is_file():  # written by hand or by an older version: nothing to compare with
        return
    if saved_dataset_digest(path) != recorded.read_text(encoding="utf-8").strip():
        raise ValueError(
            f"the tokenized data in {path} changed on disk since the tokenized stage wrote it: "
            "materialize tokenized again (its files are not what was checked)"
        )


def check_token_ids(splits: Mapping[str, Any], vocab_size: int) -> None:
    """Refuse token ids the model has no embedding for, naming the split, before an IndexError
    deep inside the forward pass (tokens made by another tokenizer, say)."""
    import pyarrow.compute as pc

    for name, split in splits.items():
        ids = pc.list_flatten(split.data.column("input_ids"))
        largest = pc.max(ids).as_py() if len(ids) else None
        if largest is not None and largest >= vocab_size:
            raise ValueError(
                f"the {name} split holds token id {largest}, beyond the base model's {vocab_size} embeddings: "
                "the data was tokenized for another model; rebuild tokenized with this base model"
            )


def check_accumulation(config: TrainingConfig, train_rows: int, processes: int) -> int:
    """The rows of one optimizer step; refuse an accumulation longer than an epoch, which the
    Trainer would cap silently (one step per epoch on a smaller batch than configured)."""
    rows_per_batch = config.per_device_train_batch_size * processes
    batches_per_epoch = max(1, math.ceil(train_rows / rows_per_batch))
    if config.gradient_accumulation_steps > batches_per_epoch:
        raise ValueError(
            f"gradient_accumulation_steps {config.gradient_accumulation_steps} is more than the {batches_per_epoch} "
            f"batches of one epoch ({train_rows} training rows, {rows_per_batch} rows per batch): the effective batch "
            f"would be capped at {train_rows} rows; lower gradient_accumulation_steps or per_device_train_batch_size"
        )
    return rows_per_batch * config.gradient_accumulation_steps


def training_arguments(config: TrainingConfig, precision: str, cuda: bool):
    """transformers' TrainingArguments for the config (creating them joins a distributed launch's process group)."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=config.output_dir,
        optim=config.optim,
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
        load_best_model_at_end=config.load_best_model_at_end or config.early_stopping_patience > 0,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        seed=config.seed,
        data_seed=None if config.data_seed < 0 else config.data_seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not cuda,
        dataloader_pin_memory=cuda,
        ddp_find_unused_parameters=False,  # every trainable weight is used in every step
        fsdp=True if config.fsdp else None,
        fsdp_config=fsdp_settings(config) if config.fsdp else None,
        remove_unused_columns=False,  # the splits hold exactly the model's columns (see _load_splits)
        disable_tqdm=True,
        report_to=["tensorboard"] if config.tensorboard else "none",
    )


def fsdp_settings(config: TrainingConfig) -> dict:
    """The FSDP2 settings of transformers' Trainer: decoder layers wrapped, sharded after forward."""
    return {
        "version": 2,
        "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",  # the model's `_no_split_modules` (LlamaDecoderLayer, ...)
        "reshard_after_forward": True,
        "cpu_offload": config.fsdp_cpu_offload,
        "state_dict_type": config.fsdp_state_dict_type,
        # FSDP's own: the model's checkpointing would gather every layer's weights a second time in backward.
        "activation_checkpointing": config.gradient_checkpointing,
    }


def preflight(config: TrainingConfig, precision: str, sequence_length: int, device_type: str, processes: int):
    """Estimate the plan's memory and refuse it (MemoryPlanError) when the device cannot hold it."""
    from llm_pipeline.training.memory import TrainingPlan, available_memory_bytes, check_fits, model_shape

    shape = model_shape(
        config.base_model,
        method=config.method,
        lora_r=config.lora_r,
        target_modules=config.lora_target_modules,
        layers_to_transform=config.lora_layers_to_transform,
        modules_to_save=config.lora_modules_to_save,
        trust_remote_code=config.trust_remote_code,
    )
    plan = TrainingPlan(
        method=config.method,
        precision=precision,
        optim=config.optim,
        batch_size=max(config.per_device_train_batch_size, config.per_device_eval_batch_size),
        sequence_length=sequence_length,
        gradient_checkpointing=config.gradient_checkpointing,
        double_quant=config.qlora_double_quant,
        fused_attention=device_type == "cuda",
        cpu=device_type != "cuda",
        sharded_over=processes if config.fsdp else 1,
    )
    if config.max_memory_mb:
        available = config.max_memory_mb * 2**20
    elif device_type == "cuda":
        available = available_memory_bytes("cuda")
    else:  # processes on one machine share its RAM
        available = available_memory_bytes("cpu") / processes
    return check_fits(shape, plan, available, config.gradient_accumulation_steps)


def _row_lengths(split):
    import pyarrow.compute as pc

    return pc.list_value_length(split.with_format("arrow")[:]["input_ids"])


def _longest_row(split) -> int:
    import pyarrow.compute as pc

    return int(pc.max(_row_lengths(split)).as_py() or 0)


def _mean_row_tokens(split) -> float:
    import pyarrow.compute as pc

    return float(pc.mean(_row_lengths(split)).as_py() or 0.0)


def _load_splits(splits, path: str):
    missing = [name for name in ("train", "validation") if name not in splits]
    if missing:
        raise ValueError(f"{path} has no {' or '.join(missing)} split (it has: {', '.join(splits)})")
    selected = []
    for name in ("train", "validation"):
        split = splits[name]
        # Packed rows go to the model with their position ids and without an attention mask.
        columns = PACKED_MODEL_COLUMNS if "position_ids" in split.column_names else MODEL_COLUMNS
        absent = [column for column in columns if column not in split.column_names]
        if absent:
            raise ValueError(f"split {name!r} of {path} lacks column(s) {', '.join(absent)}")
        if len(split) == 0:
            raise ValueError(f"split {name!r} of {path} is empty")
        # id/source stay on disk for traceability; the model gets only what it takes.
        selected.append(split.select_columns(list(columns)))
    if ("position_ids" in selected[0].column_names) != ("position_ids" in selected[1].column_names):
        raise ValueError(f"{path}: one split is packed and the other is not; tokenize both the same way")
    return selected[0], selected[1]


def _save_final(trainer, tokenizer, output_dir: Path, metadata: Mapping[str, Any], config: TrainingConfig) -> Path:
    """Save the model (LoRA: the adapter only), tokenizer, final report and the config that trained
    it to `output_dir/final`, atomically: a later failed run cannot leave its config beside this model."""
    final = output_dir / FINAL_DIR_NAME
    staging = final_staging(output_dir)
    if trainer.is_world_process_zero() and staging.exists():
        shutil.rmtree(staging)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(staging))  # every rank calls it (sharded states gather); rank 0 writes
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(staging))
        (staging / SUMMARY_FILE).write_text(json.dumps(dict(metadata), indent=2, default=str) + "\n", encoding="utf-8")
        config.to_json(staging / FINAL_CONFIG_FILE)
        replace_dir(staging, final)
        shutil.rmtree(staging, ignore_errors=True)  # the previous final model, swapped out
    trainer.accelerator.wait_for_everyone()
    return final.resolve()


def final_staging(output_dir: Path) -> Path:
    """Where the final model is written before it is swapped into `final/`."""
    return output_dir / f".{FINAL_DIR_NAME}.staging"


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
    failure_file = Path(config.output_dir) / FAILURE_FILE
    end_when_step_ends()  # terminated run, killed step: this trainer does not outlive it
    reporter = default_reporter()
    lock = None
    try:
        # One trainer per output folder, for as long as this process runs.
        lock = hold_output_folder(Path(config.output_dir)) if is_main_process() else None
        failure_file.unlink(missing_ok=True)
        try:
            run_training(config, reporter)
        except Exception as error:
            output_dir = Path(config.output_dir)
            full = disk_full_error(error, output_dir, config.save_total_limit, leftovers=[final_staging(output_dir)])
            if full is None or not is_main_process():
                raise
            raise full from error
    except BaseException as error:
        if is_main_process() and isinstance(error, Exception):
            write_failure(failure_file, error)
        reporter.close(error)
        raise
    finally:
        if lock is not None:
            lock.close()
    reporter.close()
    return 0


# Errors that a second launch with the same config would meet again: not worth a retry.
DETERMINISTIC_ERRORS = (
    ValueError,
    TypeError,
    NonFiniteTrainingError,
    MemoryPlanError,
    FileNotFoundError,
    DiskFullError,
)


def write_failure(path: Path, error: Exception) -> None:
    """Why the trainer failed, for the step that launched it: the first line of the error, and
    whether launching again could help (a crash could; a bad setting or a diverged run could not)."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    payload = {
        "error": f"{type(error).__name__}: {first_line}",
        "retry": not isinstance(error, DETERMINISTIC_ERRORS),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(json.dumps(payload) + "\n", encoding="utf-8")
        staging.replace(path)
    except OSError as unwritten:  # the error itself must still reach the step, in stderr
        print(f"could not write {path} ({unwritten}); the trainer failed with {payload['error']}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
