"""The one place where full fine-tuning, LoRA and QLoRA differ: how the model to train is built.

- full:  the base model, every weight trainable, fp32 master weights.
- lora:  the base model frozen, low-rank adapters on `lora_target_modules` (peft).
- qlora: the base model quantized to 4 bits (bitsandbytes NF4/FP4, optionally double-quantized)
         and frozen, prepared for k-bit training, then the same adapters as `lora`.

peft and bitsandbytes are imported inside the functions that need them, so importing this module
(and the package) stays cheap.
"""

from __future__ import annotations

import os

from llm_pipeline.training.config import ALL_LINEAR, TrainingConfig


class QuantizationUnavailableError(RuntimeError):
    """QLoRA was asked for on a machine where bitsandbytes cannot quantize the model."""


def resolve_precision(precision: str) -> str:
    """`auto` -> bf16 on a GPU that supports it, fp16 on an older GPU, fp32 on CPU; others as given.

    fp16 mixed precision needs CUDA (its gradient scaler does not run on CPU); bf16 also runs on
    CPU, through CPU autocast.
    """
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        if cuda:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if precision == "fp16" and not cuda:
        raise ValueError("precision: fp16 needs a CUDA GPU; use bf16, fp32 or auto on this machine")
    return precision


def _torch_dtype(name: str):
    import torch

    return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}.get(
        name, torch.float32
    )


def build_model(config: TrainingConfig):
    """Load `config.base_model` and make it trainable according to `config.method`."""
    config.validate()
    if config.method == "full":
        return _build_full(config)
    if config.method == "lora":
        return _add_lora(_load_base(config, quantized=False), config)
    return _add_lora(_load_base(config, quantized=True), config)


def _build_full(config: TrainingConfig):
    model = _load_base(config, quantized=False)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    if config.gradient_checkpointing and not config.fsdp:  # FSDP checkpoints activations itself (train.py)
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def _load_base(config: TrainingConfig, *, quantized: bool):
    import torch
    from transformers import AutoModelForCausalLM

    if not quantized:
        # Full fine-tuning keeps fp32 master weights (the Trainer autocasts to 16 bit); a frozen
        # LoRA base lives in the 16-bit training dtype when there is one, which halves its memory.
        precision = resolve_precision(config.precision)
        dtype = _torch_dtype(precision) if config.method == "lora" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(
            config.base_model, dtype=dtype, trust_remote_code=config.trust_remote_code
        )
    else:
        model = _load_quantized(config)
    model.config.use_cache = False  # the KV cache is for generation; in training it only costs memory
    return model


def _load_quantized(config: TrainingConfig):
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    try:
        import bitsandbytes  # noqa: F401
    except ImportError as error:
        raise QuantizationUnavailableError(
            f"method='qlora' needs the bitsandbytes package, which cannot be imported here ({error}). "
            "Install bitsandbytes or use method='lora'."
        ) from error

    if torch.cuda.is_available():
        device_map = {"": int(os.environ.get("LOCAL_RANK", torch.cuda.current_device()))}
    else:
        device_map = {"": "cpu"}
    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=config.qlora_quant_type,
        bnb_4bit_use_double_quant=config.qlora_double_quant,
        bnb_4bit_compute_dtype=_torch_dtype(
            resolve_precision(config.precision) if config.qlora_compute_dtype == "auto" else config.qlora_compute_dtype
        ),
    )
    try:
        model = AutoModelForCausalLM.from_pretrained(
            config.base_model,
            quantization_config=quantization,
            device_map=device_map,
            dtype=torch.float32,
            trust_remote_code=config.trust_remote_code,
        )
    except (ImportError, RuntimeError, NotImplementedError) as error:
        # bitsandbytes builds without a backend for this device fail inside the quantizer.
        raise QuantizationUnavailableError(
            f"method='qlora' could not load {config.base_model!r} in 4 bits on "
            f"{'CUDA' if torch.cuda.is_available() else 'CPU'}: {error}. "
            "Check the bitsandbytes installation for this device, or use method='lora'."
        ) from error
    if not torch.cuda.is_available():
        _keep_cpu_4bit_weights_trainable(model)
    return model


def _keep_cpu_4bit_weights_trainable(model) -> None:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference during evaluation.

    On CPUs with AVX512-BF16, bitsandbytes 0.50 repacks a `Linear4bit` weight into an
    inference-only layout the first time it runs in eval mode without gradients (the Trainer's
    evaluation), and keeps that layout: from then on the forward pass uses a kernel without an
    autograd rule, so no gradient reaches the LoRA adapters and training silently stops
    (measured: adapter gradient norm 14.5 before an evaluation, 0 after). Turning the flag off
    keeps the trainable layout; evaluation is a little slower.
    """
    from bitsandbytes.nn import Linear4bit

    for module in model.modules():
        if isinstance(module, Linear4bit) and hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False


def _add_lora(model, config: TrainingConfig):
    from peft import LoraConfig, get_peft_model

    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        # Casts norms and the output head to fp32 and freezes the quantized base.
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=config.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    elif config.gradient_checkpointing and not config.fsdp:  # FSDP checkpoints activations itself (train.py)
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})

    all_linear = config.lora_target_modules == [ALL_LINEAR]
    missing = [] if all_linear else [name for name in config.lora_target_modules if not _has_module(model, name)]
    missing += [name for name in config.lora_modules_to_save if not _has_module(model, name)]
    if missing:
        raise ValueError(
            f"lora_target_modules / lora_modules_to_save {missing} match no layer of {config.base_model!r}; "
            f"its linear layers include: {', '.join(sorted(_linear_layer_names(model))[:20])}"
        )
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=ALL_LINEAR if all_linear else list(config.lora_target_modules),
        modules_to_save=list(config.lora_modules_to_save) or None,
        layers_to_transform=list(config.lora_layers_to_transform) or None,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _has_module(model, short_name: str) -> bool:
    return any(name == short_name or name.endswith("." + short_name) for name, _ in model.named_modules())


def _linear_layer_names(model) -> set[str]:
    import torch

    return {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name
    }
