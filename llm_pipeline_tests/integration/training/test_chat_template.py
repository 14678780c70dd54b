"""The chat template travels with the model: from the tokenized stage through training and merging.

Chat, supervised and text records are tokenized by the stage (packing off), a LoRA run trains on
them, and the merged model is exported. With the tokenizer of the checkpoint, of `final/` and of
the merged model, `apply_chat_template(messages)` gives each record's tokens exactly,
`apply_chat_template(messages[:-1], add_generation_prompt=True)` its masked prompt before the last
assistant turn, and the labels are -100 exactly outside the assistant turns. EOS handling: the
ChatML template writes no EOS (an assistant turn ends with `<|im_end|>\\n`, learned); a text is
`tokenizer(text) + [eos]`, all learned.
"""

from __future__ import annotations

import json

import datasets
import pytest
from transformers import AutoTokenizer

from llm_pipeline.records import content_id
from llm_pipeline.stages.base_model.reference import write_model_ref
from llm_pipeline.stages.tokenized.run import run as tokenize
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.token_rows import IGNORE_INDEX
from llm_pipeline.training.merge import export_model
from llm_pipeline.training.reporters import MemoryReporter
from llm_pipeline.training.train import FINAL_DIR_NAME, run_training
from llm_pipeline_tests.support.tiny import QA_PAIRS, SENTENCES, tiny_training_config

pytestmark = pytest.mark.slow

MESSAGES = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
FEATURES = datasets.Features(
    {
        **{name: datasets.Value("string") for name in ("id", "source", "format", "text", "input", "output")},
        "messages": MESSAGES,
    }
)
CHATS = [
    [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "What do bees make?"},
        {"role": "assistant", "content": "Bees make honey and wax."},
        {"role": "user", "content": "And what do they eat?"},
        {"role": "assistant", "content": "They eat nectar and pollen."},
    ],
    [
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": "Air scatters blue light more than red light."},
    ],
    [
        {"role": "user", "content": "Name a prime number."},
        {"role": "assistant", "content": "Seven."},
        {"role": "user", "content": "Another one?"},
        {"role": "assistant", "content": "Eleven."},
        {"role": "user", "content": "And an even one?"},
        {"role": "assistant", "content": "Two is the only even prime."},
    ],
]


def records() -> list[dict]:
    empty = {"text": None, "input": None, "output": None, "messages": None}
    rows = [
        {**empty, "id": content_id(text), "source": f"notes.txt:{i}", "format": "jsonl", "text": text}
        for i, text in enumerate(SENTENCES[:8])
    ]
    rows += [
        {**empty, "id": content_id(q, a), "source": f"qa.jsonl:{i}", "format": "jsonl", "input": q, "output": a}
        for i, (q, a) in enumerate(QA_PAIRS[:6])
    ]
    rows += [
        {**empty, "id": content_id(json.dumps(chat)), "source": f"chat.jsonl:{i}", "format": "jsonl", "messages": chat}
        for i, chat in enumerate(CHATS)
    ]
    return rows


def conversation(record: dict) -> list[dict] | None:
    if record["messages"] is not None:
        return record["messages"]
    if record["text"] is not None:
        return None
    return [{"role": "user", "content": record["input"]}, {"role": "assistant", "content": record["output"]}]


def assistant_spans(tokenizer, messages) -> list[tuple[int, int]]:
    """Token ranges of the assistant turns, from apply_chat_template of the prefixes."""
    spans = []
    for k, message in enumerate(messages):
        if message["role"] == "assistant":
            start = len(tokenizer.apply_chat_template(messages[:k], add_generation_prompt=True)["input_ids"])
            spans.append((start, len(tokenizer.apply_chat_template(messages[: k + 1])["input_ids"])))
    return spans


@pytest.fixture(scope="module")
def trained(tiny_model_dir, tmp_path_factory):
    """The stage's output, a short LoRA run on it and the merged model, under one data directory."""
    layout = DataLayout(tmp_path_factory.mktemp("chat") / "data")
    train = datasets.Dataset.from_list(records(), features=FEATURES)
    datasets.DatasetDict({"train": train, "validation": train}).save_to_disk(str(layout.stage("splits")))
    write_model_ref(layout.models, str(tiny_model_dir), origin="test")
    tokenize(layout, TokenizeSettings(packing=False, max_length=128))
    config = tiny_training_config(
        tiny_model_dir,
        layout.stage("tokenized"),
        layout.models / "checkpoint",
        max_steps=2,
        save_steps=2,
        eval_steps=2,
        logging_steps=1,
    )
    run_training(config, MemoryReporter())
    final = layout.models / "checkpoint" / FINAL_DIR_NAME
    export_model(final, str(tiny_model_dir), layout.models / "merged", "# card\n")
    return layout


@pytest.mark.parametrize("folder", ["checkpoint/checkpoint-2", f"checkpoint/{FINAL_DIR_NAME}", "merged"])
def test_the_saved_tokenizer_reproduces_every_records_tokens_and_masked_prompt(trained, folder):
    tokenizer = AutoTokenizer.from_pretrained(trained.models / folder)
    assert tokenizer.chat_template is not None
    rows = {row["id"]: row for row in datasets.load_from_disk(str(trained.stage("tokenized")))["train"]}
    kinds = set()
    for record in records():
        row = rows[record["id"]]
        messages = conversation(record)
        if messages is None:  # a text: no template, the EOS appended by the stage, every token learned
            kinds.add("text")
            assert row["input_ids"] == tokenizer(record["text"])["input_ids"] + [tokenizer.eos_token_id]
            assert row["labels"] == row["input_ids"]
            continue
        kinds.add("chat" if record["messages"] is not None else "supervised")
        assert row["input_ids"] == tokenizer.apply_chat_template(messages)["input_ids"], record["source"]
        prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True)["input_ids"]
        assert row["input_ids"][: len(prompt)] == prompt
        assert row["labels"][len(prompt) - 1] == IGNORE_INDEX and row["labels"][len(prompt)] != IGNORE_INDEX
        spans = assistant_spans(tokenizer, messages)
        expected = [
            token if any(a <= i < b for a, b in spans) else IGNORE_INDEX for i, token in enumerate(row["input_ids"])
        ]
        assert row["labels"] == expected, record["source"]
        # The template ends a turn without EOS; its end-of-turn marker is learned, so generation can stop there.
        assert tokenizer.eos_token_id not in row["input_ids"]
        assert tokenizer.convert_ids_to_tokens(row["labels"][-2]) == "<|im_end|>"
    assert kinds == {"text", "supervised", "chat"}


def test_generation_stops_at_the_end_of_a_turn(trained):
    from transformers import GenerationConfig

    config = GenerationConfig.from_pretrained(trained.models / "merged")
    tokenizer = AutoTokenizer.from_pretrained(trained.models / "merged")
    assert set(config.eos_token_id) == {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
