"""Memory preflight for generation: will this model fit on the device before it is loaded.

The training preflight (`training/memory.py`) counts what training holds; generation holds less,
by the same rules:

- weights: the bytes of the folder's weight files (`dtype="auto"` loads them as stored);
- KV cache: keys and values of every layer for every token of the context, 2 * layers *
  kv_heads * head_dim bytes of the activation dtype per token;
- activations: one layer's working set for the longest forward pass (the prompt), the measured
  16-bit/fp32 constants of the training rule, per layer instead of for all of them since nothing
  is kept for a backward pass; unfused attention (off CUDA) adds its scores;
- logits: transformers' `generate` computes the last position's only, in fp32, with a copy for
  the logits processors;
- runtime: the interpreter and libraries on CPU, the allocator's slack on CUDA, as in training.

An estimate, not a measurement: a model it refuses may still run, but one it passes should.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from llm_pipeline.training.memory import (
    ACTIVATION_BYTES,
    ALLOCATOR_SLACK,
    CPU_RUNTIME_BYTES,
    GIB,
    SCORE_BYTES,
    MemoryPlanError,
)

SAFETENSORS = ".safetensors"
TORCH_WEIGHTS = (".bin", ".pt", ".pth")


@dataclass(frozen=True)
class InferenceEstimate:
    weights: float
    kv_cache: float
    activations: float
    logits: float
    runtime: float

    @property
    def total(self) -> float:
        return sum(asdict(self).values())

    def describe(self) -> str:
        parts = ", ".join(f"{name} {value / GIB:.2f}" for name, value in asdict(self).items())
        return f"{self.total / GIB:.2f} GiB ({parts})"


def weight_bytes(model_dir: Path) -> int:
    """Bytes of the weight files (safetensors when there are any, else PyTorch's)."""
    files = [path for path in model_dir.rglob(f"*{SAFETENSORS}") if path.is_file()]
    if not files:
        files = [path for path in model_dir.rglob("*") if path.is_file() and path.suffix in TORCH_WEIGHTS]
    return sum(path.stat().st_size for path in files)


def estimate_inference(model_dir: Path, config, tokens: int, cuda: bool) -> InferenceEstimate:
    """Bytes to generate with the model in `model_dir` (its `config`) over a context of `tokens`."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    dtype = str(getattr(text, "dtype", None) or getattr(text, "torch_dtype", None) or "float32")
    activation_bytes = 2 if ("float16" in dtype or "bfloat16" in dtype) else 4
    hidden, heads, layers = text.hidden_size, text.num_attention_heads, text.num_hidden_layers
    head_dim = getattr(text, "head_dim", None) or hidden // heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    intermediate = getattr(text, "intermediate_size", None) or 4 * hidden

    weights = float(weight_bytes(model_dir))
    kv_cache = 2.0 * layers * kv_heads * head_dim * tokens * activation_bytes
    per_h, per_i = ACTIVATION_BYTES[activation_bytes]
    per_token = per_h * hidden + per_i * intermediate + (0 if cuda else SCORE_BYTES[activation_bytes] * heads * tokens)
    activations = float(tokens * per_token)
    logits = 2.0 * text.vocab_size * 4
    tensors = weights + kv_cache + activations + logits
    runtime = ALLOCATOR_SLACK * tensors if cuda else CPU_RUNTIME_BYTES
    return InferenceEstimate(weights, kv_cache, activations, logits, runtime)


def check_inference_fits(estimate: InferenceEstimate, available_bytes: float, where: str) -> InferenceEstimate:
    """`estimate` when it fits in `available_bytes`; MemoryPlanError with the estimate otherwise."""
    if estimate.total <= available_bytes:
        return estimate
    raise MemoryPlanError(
        f"generating with {where} needs ~{estimate.describe()}, but only {available_bytes / GIB:.2f} GiB is "
        "available: use a smaller model, fewer tokens (--max-new-tokens), or a device with more memory"
    )
