"""Memory preflight: will this training plan fit on the device, and if not, what to change.

The estimate follows the rules of EleutherAI's "Transformer Math 101" (Anthony, Biderman,
Schoelkopf et al., 2023), adapted to how this trainer holds a model:

- weights: 4 bytes per parameter in fp32, 2 in bf16/fp16; QLoRA's 4-bit NF4/FP4 linear layers
  take 0.5 byte plus their quantization constants (one fp32 per 64 weights, or with double
  quantization one byte per 64 plus one fp32 per 64*256); the layers bitsandbytes leaves alone
  (embeddings, norms, output head) are cast to fp32 by peft's k-bit preparation.
  Full fine-tuning keeps fp32 master weights; mixed precision autocasts on the fly.
- gradients: 4 bytes per trainable parameter (fp32 master weights and adapters).
- optimizer: AdamW keeps two fp32 moments, 8 bytes per trainable parameter; 8-bit AdamW 2
  bytes; SGD with momentum 4; Adafactor's factored moments about 1 (an approximation).
- activations: the rule's form (Korthikanti et al., cited there): per layer, bytes linear in
  s*b (tokens) plus, unless attention is fused, a term in a*s^2*b for the softmax of the
  attention scores; with activation (gradient) checkpointing only each layer's input is kept
  plus one layer's activations while it is recomputed. The rule's constant (34*h bytes per
  token for a GPT block with a 4h MLP) does not fit Llama blocks (gated MLP of width i, fp32
  RMSNorm internals), so the constants here were measured: the bytes autograd saves for the
  backward pass, counted with `torch.autograd.graph.saved_tensors_hooks` on Llama blocks with
  i = 2h and 4h, are 28*h + 11*i per token and layer in 16 bit and 48*h + 22*i in fp32; the
  unfused softmax adds 6 (16 bit) or 4 (fp32) bytes per head and key. On an H200 a LoRA run of
  a 1.1B Llama (h 2048, i 8192, 16 layers, 8 x 2048 tokens) peaked at 71 bytes per token, layer
  and unit of h above its weights (these constants: 28 + 11 * 4 = 72); the same run in QLoRA,
  whose k-bit preparation keeps norms in fp32, at 94: a factor `KBIT_ACTIVATION_FACTOR`.
- logits: b*s*vocab values in the activation dtype, their fp32 copy in the loss and its
  gradient.

An estimate, not a measurement: the trainer records it next to the measured peak so the two
can be compared on every run.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

MIB = 2**20
GIB = 2**30

# Bytes of optimizer state per trainable parameter.
OPTIMIZER_STATE_BYTES = {
    "adamw_torch": 8.0,
    "adamw_torch_fused": 8.0,
    "paged_adamw_32bit": 8.0,
    "paged_adamw_8bit": 2.0,
    "adamw_8bit": 2.0,
    "adafactor": 1.0,
    "sgd": 4.0,
}
# Bytes autograd keeps per token and layer, as (per unit of h, per unit of the MLP width i), by
# the bytes of an activation (see the module doc for how they were measured).
ACTIVATION_BYTES = {2: (28, 11), 4: (48, 22)}
# Unfused attention keeps the softmax of the scores: bytes per token, layer, head and key.
SCORE_BYTES = {2: 6, 4: 4}
# QLoRA's k-bit preparation keeps norms and their outputs in fp32 (measured on an H200: 94 vs 72).
KBIT_ACTIVATION_FACTOR = 1.3
# Caching allocators round and fragment: plan for a tenth more than the tensors need.
ALLOCATOR_SLACK = 0.10
# A CPU process' resident memory before any model: the interpreter, torch, transformers,
# datasets, peft and bitsandbytes (measured: 566 MiB peak RSS training a 2-layer, width-64 model,
# `benchmarks/gpu_check.py --tiny`).
CPU_RUNTIME_BYTES = 0.6 * GIB


class MemoryPlanError(RuntimeError):
    """The training plan needs more memory than the device can give it."""


@dataclass(frozen=True)
class ModelShape:
    """What the estimate needs to know about a model, read from its config."""

    parameters: int
    quantizable_parameters: int
    """Weights of the linear layers bitsandbytes quantizes (all but the output head)."""
    hidden_size: int
    intermediate_size: int
    """Width of the MLP (4h in GPT blocks, about 2.7h to 4h in Llama blocks)."""
    num_layers: int
    num_heads: int
    vocab_size: int
    adapter_parameters: int = 0
    """Parameters LoRA adds for the configured targets and rank (0 for a full fine-tune)."""
    saved_module_parameters: int = 0
    """Parameters of `modules_to_save`: trained in full beside the adapter (peft keeps a copy)."""


@dataclass(frozen=True)
class TrainingPlan:
    method: str
    """full | lora | qlora"""
    precision: str
    """bf16 | fp16 | fp32: the dtype of activations (and of a frozen LoRA base in 16 bit)."""
    optim: str
    batch_size: int
    """Rows per device per forward pass."""
    sequence_length: int
    gradient_checkpointing: bool = False
    double_quant: bool = True
    fused_attention: bool = False
    """True on CUDA, where SDPA does not materialize the attention scores."""
    cpu: bool = False
    sharded_over: int = 1
    """Processes that FSDP shards weights, gradients and optimizer states over (1: each holds all)."""


@dataclass(frozen=True)
class MemoryEstimate:
    weights: float
    gradients: float
    optimizer: float
    activations: float
    logits: float
    runtime: float
    """The process itself (CPU) or allocator slack (CUDA)."""

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations + self.logits + self.runtime

    def to_mb(self) -> dict[str, float]:
        return {
            **{name: round(value / MIB, 1) for name, value in asdict(self).items()},
            "total": round(self.total / MIB, 1),
        }

    def describe(self) -> str:
        parts = ", ".join(f"{name} {value / GIB:.2f}" for name, value in asdict(self).items())
        return f"{self.total / GIB:.2f} GiB ({parts})"


def estimate_memory(shape: ModelShape, plan: TrainingPlan) -> MemoryEstimate:
    """Bytes one training process needs for `plan` on a model of `shape` (see the module doc)."""
    half = plan.precision in ("bf16", "fp16")
    activation_bytes = 2 if half else 4

    if plan.method == "full":
        weights = 4.0 * shape.parameters
        trainable = shape.parameters
    elif plan.method == "lora":
        weights = (2.0 if half else 4.0) * shape.parameters
        trainable = shape.adapter_parameters + shape.saved_module_parameters
        weights += 4.0 * trainable
    else:  # qlora
        constants = (1 / 64 + 4 / (64 * 256)) if plan.double_quant else 4 / 64
        quantized = shape.quantizable_parameters * (0.5 + constants)
        weights = quantized + 4.0 * (shape.parameters - shape.quantizable_parameters)
        trainable = shape.adapter_parameters + shape.saved_module_parameters
        weights += 4.0 * trainable
    gradients = 4.0 * trainable
    optimizer = OPTIMIZER_STATE_BYTES[plan.optim] * trainable
    # FSDP keeps 1/n of each on every process; the one layer gathered at a time is in the slack.
    weights, gradients, optimizer = (value / plan.sharded_over for value in (weights, gradients, optimizer))

    s, b, h, a = plan.sequence_length, plan.batch_size, shape.hidden_size, shape.num_heads
    per_h, per_i = ACTIVATION_BYTES[activation_bytes]
    per_token = per_h * h + per_i * shape.intermediate_size
    if not plan.fused_attention:
        per_token += SCORE_BYTES[activation_bytes] * a * s
    if plan.method == "qlora":
        per_token *= KBIT_ACTIVATION_FACTOR
    per_layer = s * b * per_token
    if plan.gradient_checkpointing:
        activations = shape.num_layers * s * b * h * activation_bytes + per_layer
    else:
        activations = shape.num_layers * per_layer
    logits = b * s * shape.vocab_size * (activation_bytes + 8)

    tensors = weights + gradients + optimizer + activations + logits
    runtime = CPU_RUNTIME_BYTES if plan.cpu else ALLOCATOR_SLACK * tensors
    return MemoryEstimate(weights, gradients, optimizer, activations, logits, runtime)


def check_fits(
    shape: ModelShape, plan: TrainingPlan, available_bytes: float, gradient_accumulation_steps: int = 1
) -> MemoryEstimate:
    """Return the estimate when it fits in `available_bytes`; raise MemoryPlanError saying what to change."""
    estimate = estimate_memory(shape, plan)
    if estimate.total <= available_bytes:
        return estimate
    suggestions = [
        f"{change} (needs ~{needed.total / GIB:.2f} GiB)"
        for change, needed in _alternatives(shape, plan, gradient_accumulation_steps)
        if needed.total <= available_bytes
    ]
    advice = (
        "Changes that fit: " + "; ".join(suggestions) + "."
        if suggestions
        else "No single change fits: use a smaller model or a device with more memory."
    )
    raise MemoryPlanError(
        f"this training plan needs ~{estimate.describe()} per process, but only "
        f"{available_bytes / GIB:.2f} GiB is available ({plan.method}, {plan.precision}, {plan.optim}, batch "
        f"{plan.batch_size} x {plan.sequence_length} tokens). {advice} "
        "Set memory_preflight: false to start anyway."
    )


def _alternatives(shape: ModelShape, plan: TrainingPlan, accumulation: int):
    """(config change in words, estimate under it): one change at a time, then all together."""
    changes: list[tuple[str, TrainingPlan]] = []
    if not plan.gradient_checkpointing:
        changes.append(("set gradient_checkpointing: true", replace(plan, gradient_checkpointing=True)))
    batch = plan.batch_size
    while batch > 1:
        batch //= 2
        factor = plan.batch_size // batch
        changes.append(
            (
                f"per_device_train_batch_size: {batch} with gradient_accumulation_steps: {accumulation * factor} "
                "(same effective batch)",
                replace(plan, batch_size=batch),
            )
        )
    if plan.optim in ("adamw_torch", "adamw_torch_fused", "paged_adamw_32bit"):
        changes.append(("optim: paged_adamw_8bit", replace(plan, optim="paged_adamw_8bit")))
    if plan.method == "full":
        changes.append(("method: lora", replace(plan, method="lora")))
    if plan.method in ("full", "lora"):
        changes.append(("method: qlora", replace(plan, method="qlora")))
    length = plan.sequence_length
    while length > 256:
        length //= 2
        changes.append((f"tokenized max_length: {length}", replace(plan, sequence_length=length)))
    estimates = [(change, estimate_memory(_with_adapters(shape, changed), changed)) for change, changed in changes]
    if changes:
        combined = replace(
            plan,
            gradient_checkpointing=True,
            batch_size=1,
            method="qlora",
            optim="paged_adamw_8bit" if plan.optim in ("adamw_torch", "adamw_torch_fused") else plan.optim,
        )
        estimates.append(
            (
                "all of: gradient_checkpointing: true, per_device_train_batch_size: 1, method: qlora",
                estimate_memory(_with_adapters(shape, combined), combined),
            )
        )
    return estimates


def _with_adapters(shape: ModelShape, plan: TrainingPlan) -> ModelShape:
    """A switch from full to LoRA needs adapter parameters; assume rank 8 on q/v (the defaults) if none were counted."""
    if plan.method == "full" or shape.adapter_parameters:
        return shape
    return replace(shape, adapter_parameters=shape.num_layers * 2 * 8 * 2 * shape.hidden_size)


# ----------------------------------------------------------------------------------------------
# Reading a model and a device (torch / transformers imported here only)
# ----------------------------------------------------------------------------------------------


def model_shape(
    model_name_or_path: str,
    *,
    method: str = "full",
    lora_r: int = 8,
    target_modules: list[str] | None = None,
    layers_to_transform: list[int] | None = None,
    modules_to_save: list[str] | None = None,
    trust_remote_code: bool = False,
) -> ModelShape:
    """Count a model's parameters, and the LoRA parameters the targets would add, without loading weights.

    The model is built on PyTorch's meta device from its config: exact counts, no memory.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_name_or_path, trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
    output_head = model.get_output_embeddings()
    parameters = sum(p.numel() for p in model.parameters())
    quantizable = sum(
        module.weight.numel()
        for module in model.modules()
        if isinstance(module, torch.nn.Linear) and module is not output_head
    )
    adapters = saved = 0
    if method != "full":
        targets = list(target_modules or [])
        layers = set(layers_to_transform or [])
        for name, module in model.named_modules():
            if not isinstance(module, torch.nn.Linear) or module is output_head:
                continue
            short = name.rsplit(".", 1)[-1]
            if targets != ["all-linear"] and short not in targets:
                continue
            if layers and _layer_number(name) not in layers:
                continue
            adapters += lora_r * (module.in_features + module.out_features)
        for name, module in model.named_modules():
            if modules_to_save and name.rsplit(".", 1)[-1] in modules_to_save:
                saved += sum(p.numel() for p in module.parameters())
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return ModelShape(
        parameters=parameters,
        quantizable_parameters=quantizable,
        hidden_size=text_config.hidden_size,
        intermediate_size=getattr(text_config, "intermediate_size", None) or 4 * text_config.hidden_size,
        num_layers=text_config.num_hidden_layers,
        num_heads=text_config.num_attention_heads,
        vocab_size=text_config.vocab_size,
        adapter_parameters=adapters,
        saved_module_parameters=saved,
    )


def _layer_number(module_name: str) -> int | None:
    """The number after `layers.` (or `h.`, `blocks.`) in a module's dotted name."""
    parts = module_name.split(".")
    for before, after in zip(parts, parts[1:], strict=False):
        if before in ("layers", "h", "blocks") and after.isdigit():
            return int(after)
    return None


def available_memory_bytes(device_type: str) -> float:
    """Free memory of the current CUDA device, or the RAM the OS can give without swapping."""
    if device_type == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return float(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
