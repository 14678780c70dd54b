"""Tiny fixtures for tokenizing and training tests: a corpus, a locally built model, tokenized splits.

The session fixtures `tiny_model_dir` and `tiny_tokenized_dir` (conftest.py) are built from these.
The expensive builds are cached per test process, so several modules share one tiny model.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

SENTENCES = [
    "The river rose overnight and flooded the lower fields.",
    "She packed three apples, a map and a torch for the hike.",
    "Compilers turn source code into machine instructions.",
    "A kilogram of feathers weighs as much as a kilogram of lead.",
    "The bakery on the corner opens at six every morning.",
    "Photosynthesis converts light into chemical energy.",
    "He tuned the violin before the evening concert.",
    "Rain is expected on Tuesday, with clear skies by Friday.",
    "The museum moved its dinosaur skeleton to the north wing.",
    "Binary search halves the interval at every step.",
    "Our train was delayed by twenty minutes at the border.",
    "The recipe calls for two cups of flour and an egg.",
    "Volcanoes release gas, ash and molten rock.",
    "Please restart the server after installing the update.",
    "The cat slept on the warm windowsill all afternoon.",
    "Interest rates fell for the third month in a row.",
    "Glaciers carve deep valleys over thousands of years.",
    "The committee will vote on the proposal next week.",
    "Children built a snowman with a carrot nose.",
    "A prime number has exactly two divisors.",
    "The lighthouse keeper logged every passing ship.",
    "Mix the paint slowly so that no bubbles form.",
    "Electric cars need fewer moving parts than petrol cars.",
    "The library extended its opening hours on weekends.",
    "Bees communicate the direction of flowers by dancing.",
    "He forgot his umbrella and arrived soaked.",
    "Sorting a list of n items takes n log n comparisons.",
    "The orchestra rehearsed the symphony for six weeks.",
    "Fresh basil smells strongest in the late summer.",
    "Our team shipped the new release on Thursday.",
    "The old bridge was closed for repairs in March.",
    "Owls can turn their heads almost all the way around.",
    "Water boils at a lower temperature on a mountain.",
    "The novel follows two sisters across three decades.",
    "Keep the receipt in case you want to return the shoes.",
    "Satellites relay television signals around the planet.",
    "The farmer rotated wheat, beans and clover each year.",
    "A hash table trades memory for fast lookups.",
    "The festival ended with fireworks over the harbour.",
    "Swimming in cold water takes some getting used to.",
    "The spreadsheet totals every column automatically.",
    "Wolves travel long distances in search of prey.",
    "She wrote the letter by hand and sealed it with wax.",
    "The printer ran out of ink in the middle of the report.",
    "Tides follow the pull of the moon and the sun.",
    "He learned to juggle five balls during the winter.",
    "The garden path is lined with lavender and thyme.",
    "Unit tests catch mistakes before users do.",
    "The market sells cheese, bread and smoked fish.",
    "Thunder follows lightning because sound travels slower.",
]

QA_PAIRS = [
    ("What is the capital of France?", "Paris is the capital of France."),
    ("Name a prime number below ten.", "Seven is a prime number below ten."),
    ("What do bees make?", "Bees make honey and wax."),
    ("Why is the sky blue?", "Air scatters blue light more than red light."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("What does a compiler do?", "It turns source code into machine code."),
    ("When does water boil at sea level?", "At one hundred degrees Celsius."),
    ("What pulls the tides?", "The moon and the sun pull the tides."),
    ("What is a glacier?", "A slow river of ice."),
    ("Who keeps a lighthouse?", "A lighthouse keeper does."),
    ("What is binary search?", "A search that halves the interval each step."),
    ("What do owls eat?", "Owls eat mice, insects and small birds."),
]


def tiny_records() -> list[dict]:
    """Unsupervised sentences and supervised question/answer pairs in the record schema."""
    from llm_pipeline.records import Record

    records = [Record.unsupervised(text, f"tiny.txt:{i}", "jsonl").to_dict() for i, text in enumerate(SENTENCES)]
    records += [
        Record.supervised(question, answer, f"tiny_qa.jsonl:{i}", "jsonl").to_dict()
        for i, (question, answer) in enumerate(QA_PAIRS)
    ]
    return records


def tiny_splits():
    """A DatasetDict with `train` and `validation`, every fourth record validating."""
    import datasets

    from llm_pipeline.storage.stage_output import RECORD_FEATURES

    records = tiny_records()
    features = RECORD_FEATURES

    def as_dataset(rows: list[dict]) -> datasets.Dataset:
        return datasets.Dataset.from_list(rows, features=features)

    return datasets.DatasetDict(
        {
            "train": as_dataset([r for i, r in enumerate(records) if i % 4 != 3]),
            "validation": as_dataset([r for i, r in enumerate(records) if i % 4 == 3]),
        }
    )


def build_tiny_model(root: Path) -> Path:
    """A 2-layer, width-64 Llama with a byte-level BPE tokenizer trained on the tiny corpus."""
    from llm_pipeline.stages.base_model.tiny import build_tiny_base_model

    texts = SENTENCES + [f"{q} {a}" for q, a in QA_PAIRS]
    return build_tiny_base_model(texts, root / "base", vocab_size=512, max_position_embeddings=128)


def build_tiny_tokenized(model_dir: Path, root: Path) -> Path:
    """The tiny splits tokenized with the tiny model's tokenizer (max_length 64), saved to disk with
    that tokenizer and its chat template, as the tokenized stage saves them."""
    from transformers import AutoTokenizer

    from llm_pipeline.stages.tokenized.chat_template import save_tokenizer
    from llm_pipeline.stages.tokenized.run import tokenize_splits
    from llm_pipeline.stages.tokenized.settings import TokenizeSettings
    from llm_pipeline.stages.tokenized.version import chat_template_of
    from llm_pipeline.token_rows import TOKENIZER_DIR

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    settings = TokenizeSettings(max_length=64)
    tokenized, _ = tokenize_splits(tiny_splits(), tokenizer, settings)
    path = root / "tokenized"
    tokenized.save_to_disk(str(path))
    save_tokenizer(tokenizer, chat_template_of(tokenizer, settings), path / TOKENIZER_DIR)
    return path


def tiny_training_config(model_dir: Path, tokenized_dir: Path, output_dir: Path, **settings):
    """A TrainingConfig for the tiny model on the tiny tokenized splits, writing to `output_dir`."""
    from llm_pipeline.training.config import TrainingConfig

    return TrainingConfig(
        base_model=str(model_dir), tokenized_path=str(tokenized_dir), output_dir=str(output_dir), **settings
    )


def build_custom_code_model(model_dir: Path, target: Path) -> Path:
    """The tiny model as a model that ships its own Python code (a custom architecture named by
    `auto_map`, as on the Hub): loadable only with trust_remote_code."""
    import json
    import shutil

    shutil.copytree(model_dir, target)
    config = json.loads((target / "config.json").read_text())
    config.update(
        model_type="tiny_custom",
        architectures=["TinyCustomForCausalLM"],
        auto_map={
            "AutoConfig": "configuration_tiny_custom.TinyCustomConfig",
            "AutoModelForCausalLM": "modeling_tiny_custom.TinyCustomForCausalLM",
        },
    )
    (target / "config.json").write_text(json.dumps(config, indent=2))
    (target / "configuration_tiny_custom.py").write_text(
        "from transformers import LlamaConfig\n\n\nclass TinyCustomConfig(LlamaConfig):\n    model_type = 'tiny_custom'\n"
    )
    (target / "modeling_tiny_custom.py").write_text(
        "from transformers import LlamaForCausalLM\n\nfrom .configuration_tiny_custom import TinyCustomConfig\n\n\n"
        "class TinyCustomForCausalLM(LlamaForCausalLM):\n    config_class = TinyCustomConfig\n"
    )
    return target
