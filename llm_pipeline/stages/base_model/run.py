"""The base model downstream stages load: the configured one, or a tiny Llama built from the
training split. Either way `models/base_model.json` names it (stages.base_model.reference)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import datasets

from llm_pipeline.stages.base_model.reference import model_version, write_model_ref
from llm_pipeline.stages.base_model.settings import BaseModelSettings
from llm_pipeline.stages.base_model.weights import BaseModelError, check_local_model
from llm_pipeline.stages.splits.assign import TRAIN
from llm_pipeline.storage.fingerprint import WEIGHTS_DIGEST_CACHE
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import load_records

TINY_DIR = "base"
"""The folder under models/ that holds the locally built tiny model."""
CONFIGURED_ORIGIN = "configured"
TINY_ORIGIN = "tiny, built locally"


@dataclass(frozen=True)
class BaseModelResult:
    """The model now named by models/base_model.json, and what it is."""

    model: str  # a hub id or a local directory
    origin: str  # CONFIGURED_ORIGIN or TINY_ORIGIN
    data_version: str  # stable while the model is the same (reference.model_version)
    vocab_size: int
    architecture: str
    hidden_size: int | None
    layers: int | None

    @property
    def built_locally(self) -> bool:
        return self.origin == TINY_ORIGIN


def run(
    layout: DataLayout, settings: BaseModelSettings | None = None, log: Callable[[str], None] = lambda message: None
) -> BaseModelResult:
    """Point models/base_model.json at the configured model, or build the tiny one from the
    training split under models/base/ and point at that."""
    from transformers import AutoConfig, AutoTokenizer

    settings = settings or BaseModelSettings()
    if settings.model_name_or_path:
        name, trust = settings.model_name_or_path, settings.trust_remote_code
        check_local_model(name)
        with remote_code_named(name):
            model_config = AutoConfig.from_pretrained(name, trust_remote_code=trust)
            tokenizer = AutoTokenizer.from_pretrained(name, trust_remote_code=trust)
        write_model_ref(layout.models, name, origin=CONFIGURED_ORIGIN, trust_remote_code=trust)
        revision = getattr(model_config, "_commit_hash", None) or ""
        version = model_version(name, revision, layout.models / WEIGHTS_DIGEST_CACHE, trust_remote_code=trust)
        origin = CONFIGURED_ORIGIN
    else:
        from llm_pipeline.stages.base_model.tiny import build_tiny_base_model

        train = load_records(layout.stage("splits") / TRAIN)
        texts = list(training_texts(train))
        target = layout.models / TINY_DIR
        log(f"building a tiny Llama and a BPE tokenizer from {len(texts)} training records")
        build_tiny_base_model(
            texts,
            target,
            vocab_size=settings.tiny_vocab_size,
            hidden_size=settings.tiny_hidden_size,
            num_layers=settings.tiny_layers,
            num_heads=settings.tiny_heads,
            seed=settings.seed,
        )
        name = str(target)
        write_model_ref(layout.models, name, origin=TINY_ORIGIN)
        model_config = AutoConfig.from_pretrained(target)
        tokenizer = AutoTokenizer.from_pretrained(target)
        # Same training split and settings, same tiny model: the checkpoint need not follow.
        version = model_version(name)
        origin = TINY_ORIGIN
    return BaseModelResult(
        model=name,
        origin=origin,
        data_version=version,
        vocab_size=len(tokenizer),
        architecture=", ".join(model_config.architectures or [model_config.model_type]),
        hidden_size=getattr(model_config, "hidden_size", None),
        layers=getattr(model_config, "num_hidden_layers", None),
    )


def training_texts(split: datasets.Dataset, batch_size: int = 1000) -> Iterator[str]:
    """What the tiny tokenizer learns from, one string per record: a text, an input and its output,
    or the contents of a conversation's turns (the role markers are the template's tokens)."""
    for batch in split.iter(batch_size=batch_size):
        n = len(batch["id"])
        texts, inputs, outputs, conversations = (batch.get(name) or [None] * n for name in _CONTENT_COLUMNS)
        for text, input, output, messages in zip(texts, inputs, outputs, conversations, strict=True):
            if messages is not None:
                yield "\n".join(turn["content"] for turn in messages)
            elif text is not None:
                yield text
            else:
                yield f"{input}\n{output}"


_CONTENT_COLUMNS = ("text", "input", "output", "messages")


@contextlib.contextmanager
def remote_code_named(name: str) -> Iterator[None]:
    """Turn transformers' refusal of a model's own code into the setting that allows it."""
    try:
        yield
    except ValueError as error:
        if "trust_remote_code" not in str(error):
            raise
        raise BaseModelError(
            f"base_model {name!r} ships its own Python code (custom architecture), which is not run unless "
            "base_model.trust_remote_code is true in llm_pipeline.yaml; read that code first, then turn it on"
        ) from error
