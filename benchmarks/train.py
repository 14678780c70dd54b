"""Tokenization and training throughput: our packing against the seed's padded records, in one run.

    python benchmarks/train.py --data FILE [--max-length 2048] [--steps 4] [--batch-size 2] [--repeat N]

FILE is a JSON list or JSONL of instruction records ({instruction, input, output}, or
{input, output}, or {text}), e.g. ../shared/data/instruct/llamafactory__alpaca_en_demo.json.
A tiny Llama and its BPE tokenizer are built from the records (no download), then:

- Tokenization. Seed: `tokenizer(prompt + response, max_length=L, padding="max_length",
  truncation=True)` per record in a Python loop. Ours: `tokenize_splits` (batched fast
  tokenizer, masked prompt, EOS, packing into rows of L), with 1 and 2 worker processes.
  Real tokens/s counts non-pad tokens; the pad fraction is pad tokens over all tokens handed on.
- Training. The same model, optimizer and loop (forward, backward, AdamW step) on batches of
  `--batch-size` rows: seed rows padded to L with an attention mask, against our packed rows
  (position ids, no mask). Effective tokens/s counts the non-pad tokens trained on per second
  of wall time, after one warm-up step.
Timings are wall-clock seconds of this process (set OMP_NUM_THREADS; the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def load_records(path: Path, limit: int) -> list[dict]:
    from llm_pipeline.records import Record

    text = path.read_text(encoding="utf-8")
    rows = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    records = []
    for index, row in enumerate(rows[:limit] if limit else rows):
        source = f"{path.name}:{index}"
        if "text" in row:
            records.append(Record.unsupervised(row["text"], source, "jsonl").to_dict())
            continue
        prompt = "\n".join(part for part in (row.get("instruction"), row.get("input")) if part)
        records.append(Record.supervised(prompt, row["output"], source, "jsonl").to_dict())
    return records


def seed_tokenize(records: list[dict], tokenizer, max_length: int, template: str) -> tuple[float, list[dict]]:
    """The seed guide's loop: one call per record, padded to max_length."""
    started = time.perf_counter()
    rows = []
    for record in records:
        text = (
            record["text"] if record["text"] is not None else template.format(input=record["input"]) + record["output"]
        )
        encoded = tokenizer(text, max_length=max_length, padding="max_length", truncation=True)
        rows.append({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]})
    return time.perf_counter() - started, rows


def tokenization_figures(records, tokenizer, max_length) -> tuple[dict, object, list[dict]]:
    import datasets

    from llm_pipeline.stages.tokenized.run import tokenize_splits
    from llm_pipeline.stages.tokenized.settings import DEFAULT_PROMPT_TEMPLATE, TokenizeSettings
    from llm_pipeline.storage.stage_output import RECORD_FEATURES

    features = RECORD_FEATURES
    splits = datasets.DatasetDict({"train": datasets.Dataset.from_list(records, features=features)})
    seed_seconds, seed_rows = seed_tokenize(records, tokenizer, max_length, DEFAULT_PROMPT_TEMPLATE)
    seed_real = sum(sum(row["attention_mask"]) for row in seed_rows)
    seed_total = len(seed_rows) * max_length
    figures = {
        "seed": {
            "seconds": seed_seconds,
            "real_tokens": seed_real,
            "pad_fraction": 1 - seed_real / seed_total,
            "rows": len(seed_rows),
        }
    }
    packed = None
    for workers in (1, 2):
        datasets.disable_caching()  # time the work, not a cache hit
        started = time.perf_counter()
        result, report = tokenize_splits(splits, tokenizer, TokenizeSettings(max_length=max_length, num_proc=workers))
        seconds = time.perf_counter() - started
        stats = report.splits["train"]
        figures[f"ours_{workers}proc"] = {
            "seconds": seconds,
            "real_tokens": stats.tokens,
            "pad_fraction": stats.pad_fraction,
            "rows": stats.rows,
        }
        packed = result["train"]
    return figures, packed, seed_rows


def train_figures(model_dir: Path, packed, seed_rows, batch_size: int, steps: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from llm_pipeline.token_rows import IGNORE_INDEX
    from llm_pipeline.training.collate import PackedCollator

    def measure(batches, collate) -> dict:
        """The same loop for both: returns non-pad tokens trained on per second."""
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        model.config.use_cache = False
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        real, started = 0, 0.0
        for index, rows in enumerate(batches[: steps + 1]):
            if index == 1:
                started = time.perf_counter()  # step 0 warms up
            batch, real_in_batch = collate(rows)
            model(**batch).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            real += real_in_batch if index >= 1 else 0
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "real_tokens": real, "tokens_per_s": real / seconds}

    def seed_collate(rows):
        ids = torch.tensor([row["input_ids"] for row in rows])
        mask = torch.tensor([row["attention_mask"] for row in rows])
        labels = ids.masked_fill(mask == 0, IGNORE_INDEX)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}, int(mask.sum())

    def packed_collate(rows):
        return PackedCollator(pad_token_id=0)(rows), sum(len(row["input_ids"]) for row in rows)

    packed_rows = [packed[i] for i in range(len(packed))]
    seed_batches = [seed_rows[i : i + batch_size] for i in range(0, len(seed_rows), batch_size)]
    packed_batches = [packed_rows[i : i + batch_size] for i in range(0, len(packed_rows), batch_size)]
    if min(len(seed_batches), len(packed_batches)) < steps + 1:
        raise SystemExit(
            f"need {steps + 1} batches of each; have {len(seed_batches)} seed, {len(packed_batches)} packed"
        )
    return {"seed_padded": measure(seed_batches, seed_collate), "ours_packed": measure(packed_batches, packed_collate)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="JSON list or JSONL of instruction records")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=4, help="timed training steps per approach (after one warm-up)")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="use the first N records (0 = all)")
    parser.add_argument("--repeat", type=int, default=1, help="tokenize the records this many times over (scale)")
    parser.add_argument("--hidden-size", type=int, default=64)
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    from transformers import AutoTokenizer

    from llm_pipeline.stages.base_model.tiny import build_tiny_base_model

    records = load_records(arguments.data, arguments.limit) * arguments.repeat
    texts = [record["text"] or f"{record['input']}\n{record['output']}" for record in records]
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = build_tiny_base_model(
            texts,
            Path(scratch) / "tiny",
            hidden_size=arguments.hidden_size,
            max_position_embeddings=arguments.max_length,
        )
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        print(
            f"records: {len(records)} from {arguments.data}; max_length {arguments.max_length}; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
        )

        figures, packed, seed_rows = tokenization_figures(records, tokenizer, arguments.max_length)
        seed = figures["seed"]
        print("tokenization (real = non-pad tokens):")
        for name, figure in figures.items():
            rate = figure["real_tokens"] / figure["seconds"]
            print(
                f"  {name:12s} {figure['seconds']:7.2f} s  rows {figure['rows']:5d}  real tokens {figure['real_tokens']:8d}  "
                f"real tokens/s {rate:10.0f}  pad fraction {figure['pad_fraction']:.1%}  "
                f"speed vs seed x{rate / (seed['real_tokens'] / seed['seconds']):.2f}"
            )

        training = train_figures(model_dir, packed, seed_rows, arguments.batch_size, arguments.steps)
        print(
            f"training: hidden {arguments.hidden_size}, batch {arguments.batch_size} x {arguments.max_length}, {arguments.steps} timed steps:"
        )
        for name, figure in training.items():
            print(
                f"  {name:12s} {figure['seconds']:7.2f} s  real tokens {figure['real_tokens']:7d}  "
                f"effective tokens/s {figure['tokens_per_s']:9.1f}"
            )
        ratio = training["ours_packed"]["tokens_per_s"] / training["seed_padded"]["tokens_per_s"]
        print(f"  effective tokens/s, packed over seed padded: x{ratio:.2f}")


if __name__ == "__main__":
    main()
