"""Everything the launched trainer needs, as one JSON-serializable dataclass.

The Dagster side writes a `TrainingConfig` to JSON and launches
`python -m llm_pipeline.training.train --config CONFIG.json`; the trainer reads it back.
Every field carries its help text in `metadata["help"]` so that a UI can show it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from llm_pipeline.setting import setting

Method = Literal["full", "lora", "qlora"]
Scheduler = Literal["cosine", "constant_with_warmup", "linear", "constant", "cosine_with_restarts", "polynomial"]
QuantType = Literal["nf4", "fp4"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
FsdpStateDictType = Literal["FULL_STATE_DICT", "SHARDED_STATE_DICT"]
ComputeDtype = Literal["auto", "bfloat16", "float16", "float32"]
# Optimizers known to run here; the paged / 8-bit ones are bitsandbytes' (on CPU bitsandbytes
# falls back to a non-paged optimizer with a warning).
Optimizer = Literal[
    "adamw_torch",
    "adamw_torch_fused",
    "paged_adamw_32bit",
    "paged_adamw_8bit",
    "adamw_8bit",
    "adafactor",
    "sgd",
]
# The same choices as tuples: the launchpad checks the Literal types, `validate` checks these
# for a config read from JSON.
METHODS: tuple[str, ...] = get_args(Method)
SCHEDULERS: tuple[str, ...] = get_args(Scheduler)
QUANT_TYPES: tuple[str, ...] = get_args(QuantType)
PRECISIONS: tuple[str, ...] = get_args(Precision)
FSDP_STATE_DICT_TYPES: tuple[str, ...] = get_args(FsdpStateDictType)
COMPUTE_DTYPES: tuple[str, ...] = get_args(ComputeDtype)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
ALL_LINEAR = "all-linear"
"""`lora_target_modules: [all-linear]` puts adapters on every linear layer but the output head."""


@dataclass
class TrainingConfig:
    """How the checkpoint is trained: method, optimizer and schedule, batches, LoRA / QLoRA, processes, memory."""

    # --- run paths -------------------------------------------------------------------------
    base_model: str = setting("", "Hugging Face model id or local directory of the base causal LM (and its tokenizer).")
    tokenized_path: str = setting(
        "",
        "A `datasets.DatasetDict` saved with `save_to_disk`, with `train` and `validation` splits "
        "holding `input_ids`, `attention_mask` and `labels` (and `position_ids` when packed).",
    )
    trust_remote_code: bool = setting(
        False, "Run the Python code the base model ships (set from base_model.trust_remote_code by the pipeline)."
    )
    output_dir: str = setting(
        "", "Where checkpoints go; the final model (or LoRA adapter) and tokenizer are saved to `output_dir/final`."
    )

    # --- method ----------------------------------------------------------------------------
    method: Method = setting(
        "lora",
        "`full` trains every weight; `lora` trains low-rank adapters on a frozen base; "
        "`qlora` does the same on a 4-bit quantized base (bitsandbytes).",
    )

    # --- optimisation ----------------------------------------------------------------------
    optim: Optimizer = setting(
        "adamw_torch",
        "Optimizer: " + " | ".join(OPTIMIZERS) + ". The paged and 8-bit AdamW variants (bitsandbytes) "
        "keep optimizer states out of the way of activation spikes / in a quarter of the memory.",
    )
    learning_rate: float = setting(
        2e-4, "Peak learning rate (after warmup). 2e-4 suits LoRA; full fine-tunes want ~1e-5."
    )
    lr_scheduler_type: Scheduler = setting(
        "cosine", "Learning-rate schedule after warmup: " + " | ".join(SCHEDULERS) + "."
    )
    warmup_steps: float = setting(
        5, "Optimizer steps of linear warmup from 0 to `learning_rate`; a value in (0, 1) is a fraction of all steps."
    )
    per_device_train_batch_size: int = setting(8, "Training rows per device per forward pass.")
    per_device_eval_batch_size: int = setting(8, "Validation rows per device per forward pass.")
    gradient_accumulation_steps: int = setting(
        1, "Forward passes per optimizer step; effective batch = per-device batch x devices x this."
    )
    num_train_epochs: float = setting(3.0, "Passes over the training split (ignored when `max_steps` > 0).")
    max_steps: int = setting(-1, "Total optimizer steps; a value > 0 overrides `num_train_epochs`.")
    weight_decay: float = setting(0.0, "AdamW weight decay.")
    max_grad_norm: float = setting(1.0, "Gradient clipping norm (0 disables clipping).")
    seed: int = setting(
        42, "Seed for weight/adapter initialisation and dropout (and data order unless `data_seed` is set)."
    )
    data_seed: int = setting(-1, "Seed of the data order alone; -1: use `seed`.")
    precision: Precision = setting(
        "auto",
        "Mixed precision: auto | bf16 | fp16 | fp32. `auto` takes bf16 on a GPU that supports it, fp16 on "
        "an older GPU, fp32 on CPU.",
    )
    gradient_checkpointing: bool = setting(
        False, "Recompute activations in the backward pass: less activation memory, more compute per step."
    )

    # --- evaluation, logging, checkpoints ---------------------------------------------------
    eval_steps: int = setting(10, "Evaluate the validation loss every this many optimizer steps.")
    logging_steps: int = setting(5, "Log (and report) the training loss every this many optimizer steps.")
    save_steps: int = setting(50, "Write a checkpoint every this many optimizer steps.")
    save_total_limit: int = setting(
        2,
        "Keep at most this many checkpoints in `output_dir` (older ones are deleted); 2 or more keeps a complete one "
        "while the next is written.",
    )
    resume_from_checkpoint: bool = setting(
        True,
        "Continue from the newest complete checkpoint of the same run (same config and data) when there is "
        "one, e.g. after a crash; false always starts over.",
    )
    early_stopping_patience: int = setting(
        0,
        "Stop when the validation loss has not improved for this many evaluations (the best checkpoint is then "
        "kept, as with `load_best_model_at_end`); 0 = never stop early.",
    )
    load_best_model_at_end: bool = setting(
        False,
        "Keep the checkpoint with the lowest validation loss and save it as the final model "
        "(`save_steps` must be a multiple of `eval_steps`).",
    )
    tensorboard: bool = setting(False, "Also write TensorBoard logs to `output_dir/tensorboard`.")

    # --- LoRA / QLoRA ----------------------------------------------------------------------
    lora_r: int = setting(8, "Rank of the LoRA update matrices.")
    lora_alpha: int = setting(16, "LoRA scaling numerator: the update is scaled by lora_alpha / lora_r.")
    lora_dropout: float = setting(0.05, "Dropout on the LoRA branch input.")
    lora_target_modules: list[str] = setting(
        ["q_proj", "v_proj"],
        "Names of the linear layers that get adapters (Llama: q_proj, k_proj, v_proj, o_proj, "
        "gate_proj, up_proj, down_proj), or `[all-linear]` for every linear layer but the output head.",
    )
    lora_modules_to_save: list[str] = setting(
        [], "Modules trained in full and saved beside the adapter, e.g. `[lm_head, embed_tokens]` after adding tokens."
    )
    lora_layers_to_transform: list[int] = setting([], "Layer numbers that get adapters; empty: every layer.")
    qlora_quant_type: QuantType = setting("nf4", "4-bit data type of the frozen base for QLoRA: nf4 | fp4.")
    qlora_double_quant: bool = setting(True, "Also quantize the quantization constants (saves ~0.4 bit per weight).")
    qlora_compute_dtype: ComputeDtype = setting(
        "auto",
        "Dtype the 4-bit weights are dequantized to for each matmul: auto | bfloat16 | float16 | float32; "
        "`auto` follows `precision`.",
    )

    # --- scale and memory --------------------------------------------------------------------
    num_processes: int = setting(
        1, "Training processes launched by `accelerate launch` (DDP): one per GPU; on CPU, processes over gloo."
    )
    fsdp: bool = setting(
        False,
        "Fully Sharded Data Parallel (FSDP2) over the `num_processes` processes instead of DDP: parameters, "
        "gradients and optimizer states are split between the processes instead of copied to each (for a model "
        "whose full training state does not fit one device). `gradient_checkpointing` then uses FSDP's own "
        "activation checkpointing. Not with `qlora`.",
    )
    fsdp_cpu_offload: bool = setting(
        False, "With FSDP: keep parameters and gradients in CPU memory between uses (slower, frees device memory)."
    )
    fsdp_state_dict_type: FsdpStateDictType = setting(
        "FULL_STATE_DICT",
        "With FSDP: checkpoints as FULL_STATE_DICT (one Hugging Face-compatible file) | "
        "SHARDED_STATE_DICT (one file per process; faster to write for large models).",
    )
    memory_preflight: bool = setting(
        True, "Before loading the model, estimate the memory the plan needs and refuse to start when it cannot fit."
    )
    max_memory_mb: int = setting(
        0, "Memory the preflight may plan for, per process; 0: what the device has free (CUDA) or available RAM (CPU)."
    )

    # --- validation and JSON -----------------------------------------------------------------
    def validate(self) -> TrainingConfig:
        """Raise ValueError naming every bad field; return self so calls can be chained."""
        problems: list[str] = []
        choices = {
            "method": METHODS,
            "optim": OPTIMIZERS,
            "lr_scheduler_type": SCHEDULERS,
            "precision": PRECISIONS,
            "qlora_quant_type": QUANT_TYPES,
            "qlora_compute_dtype": COMPUTE_DTYPES,
            "fsdp_state_dict_type": FSDP_STATE_DICT_TYPES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        for name in ("base_model", "tokenized_path", "output_dir"):
            if not getattr(self, name):
                problems.append(f"{name} must be set")
        for name in ("learning_rate", "num_train_epochs"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                problems.append(f"{name} must be a positive number; got {value!r}")
        for name in ("weight_decay", "max_grad_norm", "warmup_steps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                problems.append(f"{name} must be >= 0; got {value!r}")
        for name in (
            "per_device_train_batch_size",
            "per_device_eval_batch_size",
            "gradient_accumulation_steps",
            "eval_steps",
            "save_steps",
            "logging_steps",
            "save_total_limit",
            "lora_r",
            "lora_alpha",
            "num_processes",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                problems.append(f"{name} must be a positive integer; got {value!r}")
        for name in ("early_stopping_patience", "max_memory_mb"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0; got {getattr(self, name)!r}")
        if self.fsdp and self.num_processes < 2:
            problems.append(
                "fsdp shards the model over several processes: set num_processes to 2 or more (one per GPU)"
            )
        if self.fsdp and self.method == "qlora":
            problems.append(
                "fsdp with method qlora is not supported: use method lora or full with fsdp, or qlora with DDP (fsdp: false)"
            )
        if not (self.max_steps == -1 or self.max_steps > 0):
            problems.append(
                f"max_steps must be -1 (use num_train_epochs) or a positive integer; got {self.max_steps!r}"
            )
        if not (self.data_seed == -1 or self.data_seed >= 0):
            problems.append(f"data_seed must be -1 (use seed) or >= 0; got {self.data_seed!r}")
        if not 0.0 <= self.lora_dropout < 1.0:
            problems.append(f"lora_dropout must be in [0, 1); got {self.lora_dropout!r}")
        if not self.lora_target_modules or not all(isinstance(m, str) and m for m in self.lora_target_modules):
            problems.append(
                f"lora_target_modules must be a non-empty list of module names; got {self.lora_target_modules!r}"
            )
        elif ALL_LINEAR in self.lora_target_modules and len(self.lora_target_modules) > 1:
            problems.append(f"lora_target_modules: `{ALL_LINEAR}` stands alone; got {self.lora_target_modules!r}")
        if any(not (isinstance(layer, int) and layer >= 0) for layer in self.lora_layers_to_transform):
            problems.append(
                f"lora_layers_to_transform must hold layer numbers >= 0; got {self.lora_layers_to_transform!r}"
            )
        if (self.load_best_model_at_end or self.early_stopping_patience) and self.save_steps % self.eval_steps:
            problems.append(
                f"load_best_model_at_end and early stopping compare checkpoints at evaluations: save_steps "
                f"({self.save_steps}) must be a multiple of eval_steps ({self.eval_steps})"
            )
        if problems:
            raise ValueError("invalid TrainingConfig: " + "; ".join(problems))
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainingConfig field(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, path: str | Path) -> TrainingConfig:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


# Filled in by the pipeline when a run starts, from the data directory and the base model (not
# settings a user writes in the checkpoint section).
RUN_PATH_FIELDS = ("base_model", "tokenized_path", "output_dir")
RUN_FIELDS = (*RUN_PATH_FIELDS, "trust_remote_code")

# Fields that change how a run is watched or stored, not what it computes: a checkpoint written
# under other values of these is still a checkpoint of the same run and can be resumed.
BOOKKEEPING_FIELDS = frozenset(
    {
        "output_dir",
        "eval_steps",
        "logging_steps",
        "save_steps",
        "save_total_limit",
        "resume_from_checkpoint",
        "tensorboard",
        "memory_preflight",
        "max_memory_mb",
        "per_device_eval_batch_size",
    }
)
