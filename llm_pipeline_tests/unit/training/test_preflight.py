"""Memory preflight: the Transformer Math rules, the refusal and its advice, the trainer refusing early."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from llm_pipeline.training.memory import (
    GIB,
    MemoryPlanError,
    ModelShape,
    TrainingPlan,
    check_fits,
    estimate_memory,
    model_shape,
)
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import run_training
from llm_pipeline_tests.support.tiny import tiny_training_config

# Roughly Llama-2-7B: 6.7e9 parameters, 32 layers of width 4096, 32 heads, 32k vocabulary.
LLAMA_7B = ModelShape(
    parameters=6_738_415_616,
    quantizable_parameters=6_476_005_376,
    hidden_size=4096,
    intermediate_size=11008,
    num_layers=32,
    num_heads=32,
    vocab_size=32_000,
    adapter_parameters=4_194_304,  # r=8 on q_proj and v_proj
)


def plan(**changes) -> TrainingPlan:
    settings = {"method": "full", "precision": "bf16", "optim": "adamw_torch", "batch_size": 1, "sequence_length": 2048}
    return TrainingPlan(**{**settings, **changes})


def test_full_fine_tune_with_adamw_takes_16_bytes_per_parameter_before_activations():
    estimate = estimate_memory(LLAMA_7B, plan())
    assert estimate.weights + estimate.gradients + estimate.optimizer == 16 * LLAMA_7B.parameters
    assert 100 * GIB < estimate.total < 160 * GIB  # the well-known "a 7B full fine-tune does not fit in 80 GB"


def test_fsdp_splits_the_training_state_between_processes_but_not_the_activations():
    alone = estimate_memory(LLAMA_7B, plan())
    sharded = estimate_memory(LLAMA_7B, plan(sharded_over=8))
    assert sharded.weights + sharded.gradients + sharded.optimizer == 16 * LLAMA_7B.parameters / 8
    assert (sharded.activations, sharded.logits) == (alone.activations, alone.logits)
    assert sharded.total < 80 * GIB < alone.total  # a 7B full fine-tune fits eight 80 GB devices with FSDP


def test_lora_and_qlora_shrink_the_weights_and_train_only_the_adapters():
    lora = estimate_memory(LLAMA_7B, plan(method="lora"))
    assert lora.weights == 2 * LLAMA_7B.parameters + 4 * LLAMA_7B.adapter_parameters
    assert lora.optimizer == 8 * LLAMA_7B.adapter_parameters
    qlora = estimate_memory(LLAMA_7B, plan(method="qlora"))
    frozen_full_precision = LLAMA_7B.parameters - LLAMA_7B.quantizable_parameters
    per_quantized_weight = (
        qlora.weights - 4 * frozen_full_precision - 4 * LLAMA_7B.adapter_parameters
    ) / LLAMA_7B.quantizable_parameters
    assert per_quantized_weight == pytest.approx(0.5 + 1 / 64 + 4 / (64 * 256))  # 4 bits + double-quantized constants
    without_double = estimate_memory(LLAMA_7B, plan(method="qlora", double_quant=False))
    assert without_double.weights > qlora.weights
    assert qlora.weights < lora.weights / 3
    assert (
        estimate_memory(LLAMA_7B, plan(method="lora", optim="paged_adamw_8bit")).optimizer
        == 2 * LLAMA_7B.adapter_parameters
    )


def test_activations_grow_with_tokens_and_attention_scores_and_checkpointing_cuts_them():
    s, b, h, i, a, layers = 2048, 1, 4096, 11008, 32, 32
    fused = estimate_memory(LLAMA_7B, plan(fused_attention=True))
    assert fused.activations == layers * s * b * (28 * h + 11 * i)
    unfused = estimate_memory(LLAMA_7B, plan())
    assert unfused.activations == layers * s * b * (28 * h + 11 * i + 6 * a * s)
    checkpointed = estimate_memory(LLAMA_7B, plan(fused_attention=True, gradient_checkpointing=True))
    assert checkpointed.activations == layers * s * b * h * 2 + fused.activations / layers
    assert estimate_memory(LLAMA_7B, plan(precision="fp32", fused_attention=True)).activations == layers * s * b * (
        48 * h + 22 * i
    )
    assert estimate_memory(LLAMA_7B, plan(batch_size=4)).logits == 4 * unfused.logits


@pytest.mark.parametrize("dtype, per_h, per_i", [(torch.bfloat16, 28, 11), (torch.float32, 48, 22)])
def test_the_activation_constants_match_what_autograd_saves_in_a_llama_block(dtype, per_h, per_i):
    """The constants of `estimate_memory`, measured again: bytes saved for backward per token and layer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    h, i, s, b = 128, 352, 256, 1  # long enough for SDPA's fused CPU kernel (shorter: the math kernel)
    ids = torch.randint(0, 256, (b, s))

    def saved_bytes(layers: int) -> int:
        torch.manual_seed(0)
        config = LlamaConfig(
            vocab_size=256, hidden_size=h, intermediate_size=i, num_hidden_layers=layers, num_attention_heads=4,
            num_key_value_heads=4, use_cache=False, attn_implementation="sdpa",
        )  # fmt: skip
        model = LlamaForCausalLM(config).to(dtype)
        seen: dict = {}

        def keep(tensor):
            seen[(tensor.untyped_storage().data_ptr(), tensor.dtype)] = tensor.untyped_storage().nbytes()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
            model(input_ids=ids, labels=ids)
        return sum(seen.values())

    per_layer_per_token = (saved_bytes(3) - saved_bytes(1)) / 2 / (s * b)
    assert per_layer_per_token == pytest.approx(per_h * h + per_i * i, rel=0.08)


def test_a_plan_that_cannot_fit_is_refused_with_changes_that_would_fit():
    on_gpu = plan(method="lora", batch_size=8, fused_attention=True)
    needed = estimate_memory(LLAMA_7B, on_gpu)
    with pytest.raises(MemoryPlanError) as refusal:
        check_fits(LLAMA_7B, on_gpu, available_bytes=40 * GIB, gradient_accumulation_steps=2)
    message = str(refusal.value)
    assert f"{needed.total / GIB:.2f} GiB" in message and "40.00 GiB is available" in message
    assert "set gradient_checkpointing: true" in message
    assert "per_device_train_batch_size: 1 with gradient_accumulation_steps: 16" in message
    assert "method: qlora" in message
    assert "memory_preflight: false" in message
    assert check_fits(LLAMA_7B, plan(method="qlora", batch_size=1, fused_attention=True), 40 * GIB).total < 40 * GIB


def test_nothing_fits_on_a_tiny_device():
    with pytest.raises(MemoryPlanError, match="No single change fits"):
        check_fits(LLAMA_7B, plan(), available_bytes=1 * GIB)


def test_model_shape_counts_parameters_and_adapters_like_peft(tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    total = sum(p.numel() for p in model.parameters())
    for targets, layers in ((["q_proj", "v_proj"], []), (["all-linear"], []), (["q_proj"], [1])):
        shape = model_shape(
            str(tiny_model_dir), method="lora", lora_r=8, target_modules=targets, layers_to_transform=layers
        )
        assert shape.parameters == total
        peft_model = get_peft_model(
            AutoModelForCausalLM.from_pretrained(tiny_model_dir),
            LoraConfig(
                r=8,
                target_modules="all-linear" if targets == ["all-linear"] else targets,
                layers_to_transform=layers or None,
            ),
        )
        trainable, _ = peft_model.get_nb_trainable_parameters()
        assert shape.adapter_parameters == trainable, targets
    assert model_shape(str(tiny_model_dir)).quantizable_parameters == total - 2 * 64 * model.config.vocab_size - 5 * 64


def test_the_trainer_refuses_before_loading_the_model(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    config = tiny_training_config(
        tiny_model_dir,
        tiny_tokenized_dir,
        tmp_path / "run",
        max_steps=2,
        max_memory_mb=1,
    )
    reporter = MemoryReporter()
    with pytest.raises(MemoryPlanError, match="Changes that fit|No single change fits"):
        run_training(config, reporter)
    assert reporter.final_metadata is None
    assert not (Path(config.output_dir) / "final").exists()
