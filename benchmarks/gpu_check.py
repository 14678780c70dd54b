"""GPU check: LoRA and QLoRA on a random ~1B Llama at sequence length 2048 with packing.

    python benchmarks/gpu_check.py [--steps 20] [--batch-size 8] [--methods lora,qlora]
    python benchmarks/gpu_check.py --tiny      # a 2-step CPU run of the same code path

Builds everything locally (no download): a byte-level BPE tokenizer trained on generated text,
a randomly initialised Llama (hidden 2048, 16 layers, 32 heads, MLP 8192: ~1.1B parameters),
generated records of instruction-like lengths tokenized and packed by `tokenize_splits`. Then,
for each method, `run_training` (the launched trainer's own function: preflight, packing
probe, Trainer) for a fixed number of steps, and one line with:

- tokens/s: real tokens per second over the steps after the first three (compile and
  allocator warm-up), timed at each logged step;
- MFU: model FLOPs per token, 6*N + 12*L*h*s (PaLM's convention; N the base model's
  parameters, s = 2048), times tokens/s, over the dense bf16 peak of an H100/H200 SXM
  (989 TFLOP/s). A LoRA step does less work than 6*N (no weight gradients for the frozen
  base), so this is the usual convention rather than the work done;
- peak memory (torch.cuda.max_memory_allocated) next to the preflight estimate.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

PEAK_BF16_FLOPS = 989e12
WORDS = (
    "the a of to and in is for on with as by at from that this it be are was were not or an which their has have "
    "model data train token river market bread cheese light sound water energy compiler server library garden "
    "music number prime search table index memory layer weight batch sequence length gradient optimizer paper "
    "history science city mountain ocean forest winter summer morning evening question answer reason because"
).split()


def generated_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build_inputs(root: Path, tiny: bool, max_length: int, rows_needed: int, seed: int = 0) -> tuple[Path, Path]:
    """A random Llama + tokenizer at root/model, packed tokenized splits at root/tokenized."""
    import datasets
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from llm_pipeline.records import Record
    from llm_pipeline.stages.base_model.tiny import build_tiny_base_model
    from llm_pipeline.stages.tokenized.run import tokenize_splits
    from llm_pipeline.stages.tokenized.settings import TokenizeSettings
    from llm_pipeline.storage.stage_output import RECORD_FEATURES

    rng = random.Random(seed)
    corpus = [generated_text(rng, rng.randint(5, 60)) for _ in range(2000)]
    model_dir = build_tiny_base_model(
        corpus, root / "model", vocab_size=4096, max_position_embeddings=max_length, seed=seed
    )
    if not tiny:  # replace the tiny weights with a ~1B model on the same tokenizer
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=2048,
            intermediate_size=8192,
            num_hidden_layers=16,
            num_attention_heads=32,
            num_key_value_heads=32,
            max_position_embeddings=max_length,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            tie_word_embeddings=False,
        )
        torch.manual_seed(seed)
        with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
            model = LlamaForCausalLM(config).to(torch.bfloat16)
        model.save_pretrained(model_dir)
        del model

    # Instruction-like records: prompts of 10-120 words, answers of 20-400.
    records = []
    target_tokens = rows_needed * max_length
    tokens_so_far = 0
    while tokens_so_far < target_tokens * 1.1 or len(records) < 40:
        prompt, answer = generated_text(rng, rng.randint(10, 120)), generated_text(rng, rng.randint(20, 400))
        records.append(Record.supervised(prompt, answer, f"generated:{len(records)}", "jsonl").to_dict())
        tokens_so_far += int((len(prompt) + len(answer)) / 3.5)
    features = RECORD_FEATURES
    validation_size = max(8, len(records) // 50)
    splits = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(records[validation_size:], features=features),
            "validation": datasets.Dataset.from_list(records[:validation_size], features=features),
        }
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenized, report = tokenize_splits(splits, tokenizer, TokenizeSettings(max_length=max_length, num_proc=1))
    tokenized.save_to_disk(str(root / "tokenized"))
    train = report.splits["train"]
    print(
        f"data: {train.kept} records -> {train.rows} packed rows of <= {max_length} tokens, pad {train.pad_fraction:.1%}"
    )
    return model_dir, root / "tokenized"


class TimingReporter:
    """Keeps the wall time of every logged step, and the final report."""

    def __init__(self) -> None:
        self.step_times: list[tuple[int, float]] = []
        self.final_metadata: dict | None = None

    def progress(self, step, logs) -> None:
        if "loss" in logs:
            self.step_times.append((step, time.perf_counter()))

    def final(self, metadata) -> None:
        self.final_metadata = dict(metadata)

    def close(self, error=None) -> None:
        pass


def run_method(
    method: str, model_dir: Path, tokenized: Path, out: Path, steps: int, batch_size: int, tiny: bool
) -> dict:
    import torch
    from datasets import load_from_disk

    from llm_pipeline.training.config import TrainingConfig
    from llm_pipeline.training.train import run_training

    config = TrainingConfig(
        base_model=str(model_dir),
        tokenized_path=str(tokenized),
        output_dir=str(out / method),
        method=method,
        optim="paged_adamw_8bit" if method == "qlora" else "adamw_torch",
        lora_target_modules=["all-linear"],
        lora_r=16,
        lora_alpha=32,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        max_steps=steps,
        warmup_steps=1,
        logging_steps=1,
        eval_steps=steps,
        save_steps=steps + 1000,  # no checkpoint: this measures training, not disk
        resume_from_checkpoint=False,
    )
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    reporter = TimingReporter()
    result = run_training(config, reporter)
    metadata = result.metadata

    lengths = [len(ids) for ids in load_from_disk(str(tokenized))["train"]["input_ids"]]
    tokens_per_step = batch_size * sum(lengths) / len(lengths)
    skip = 0 if tiny else 3
    timed = reporter.step_times[skip:]
    (first_step, first_time), (last_step, last_time) = timed[0], timed[-1]
    tokens_per_s = (
        tokens_per_step * (last_step - first_step) / (last_time - first_time)
        if last_step > first_step
        else float("nan")
    )

    from transformers import AutoConfig

    model_config = AutoConfig.from_pretrained(model_dir)
    parameters = metadata["total_params"]
    if method == "qlora":  # peft counts packed 4-bit weights as two per byte: use the unquantized count
        from llm_pipeline.training.memory import model_shape

        parameters = model_shape(str(model_dir)).parameters
    del result  # free the model before the next method's peak memory is measured
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    sequence = max(lengths)
    flops_per_token = 6 * parameters + 12 * model_config.num_hidden_layers * model_config.hidden_size * sequence
    return {
        "method": method,
        "params": parameters,
        "steps": metadata["global_steps"],
        "tokens_per_s": round(tokens_per_s, 1),
        "mfu": round(flops_per_token * tokens_per_s / PEAK_BF16_FLOPS, 4) if torch.cuda.is_available() else None,
        "peak_memory_mb": round(metadata["peak_memory_mb"], 1),
        "preflight_estimate_mb": metadata["memory_estimate_mb"],
        "estimate_parts_mb": metadata["memory_estimate"],
        "final_train_loss": round(metadata["final_train_loss"], 4),
        "precision": metadata["precision"],
        "device": metadata["device"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="2 steps of a tiny model on CPU: checks the code path")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--methods", default="lora,qlora")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args()

    max_length = 128 if arguments.tiny else 2048
    steps = 2 if arguments.tiny else arguments.steps
    batch_size = 2 if arguments.tiny else arguments.batch_size
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        model_dir, tokenized = build_inputs(root, arguments.tiny, max_length, rows_needed=(steps + 2) * batch_size)
        print(f"inputs built in {time.perf_counter() - started:.1f} s")
        results, failed = [], False
        for method in arguments.methods.split(","):
            began = time.perf_counter()
            try:
                result = run_method(method, model_dir, tokenized, root / "runs", steps, batch_size, arguments.tiny)
            except Exception as error:  # one method failing must not hide the other's figures
                print(f"{method:6s} FAILED: {type(error).__name__}: {error}", flush=True)
                failed = True
                continue
            results.append(result)
            mfu = f"{result['mfu']:.1%}" if result["mfu"] is not None else "n/a (CPU)"
            print(
                f"{method:6s} {result['params'] / 1e9:.2f}B params  {result['steps']} steps of {batch_size} x {max_length}  "
                f"tokens/s {result['tokens_per_s']:,.0f}  MFU {mfu}  peak {result['peak_memory_mb']:,.0f} MiB  "
                f"preflight estimate {result['preflight_estimate_mb']:,.0f} MiB  loss {result['final_train_loss']}  "
                f"({result['precision']}, {result['device']}, {time.perf_counter() - began:.0f} s)",
                flush=True,
            )
            print("  estimate parts (MiB): " + json.dumps(result["estimate_parts_mb"]), flush=True)
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2))
    print(f"total {time.perf_counter() - started:.0f} s")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
