"""The version of tokenized splits: what, besides the records, decides their tokens."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from llm_pipeline.stages.tokenized.chat_template import ChatTemplate, resolve_chat_template
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.storage.fingerprint import saved_dataset_digest

TOKENIZING_MODULE = "llm_pipeline.stages.tokenized.run"
"""The stage's code: it and every module it imports decide the rows (see `code_version`)."""
CODE_LIBRARIES = ("tokenizers", "transformers", "jinja2")
"""Third-party code that decides the rows (transformers and jinja2 render the chat template),
entering the code version through its installed version."""


def code_version() -> str:
    """A hash of the tokenizing code (derived from its imports) and the tokenizers library: a change
    to either gives the stage a new code version and its output a new data version."""
    return code_fingerprint(TOKENIZING_MODULE, libraries=CODE_LIBRARIES)[:16]


def chat_template_of(tokenizer, settings: TokenizeSettings) -> ChatTemplate:
    """The chat template these settings give with this tokenizer (checked; ChatTemplateError if unusable)."""
    return resolve_chat_template(tokenizer, settings.chat_template, settings.prompt_template, settings.system_prompt)


def tokenization_fingerprint(tokenizer, settings: TokenizeSettings) -> str:
    """A hash of what, besides the records and the code, decides the tokens: tokenizer, settings and
    the chat template they resolve to.

    The tokenizer enters through its full serialized pipeline (vocabulary, merges, normalizer,
    pre-tokenizer, post-processor, added tokens) and its special tokens, so two models whose
    tokenizers differ in any of them never share tokenized data. The template enters as the Jinja
    text itself: `chat_template: auto` over a tokenizer whose own template changed is another one.
    """
    digest = hashlib.sha256()
    digest.update(type(tokenizer).__name__.encode())
    digest.update(plain_backend(tokenizer).to_str().encode("utf-8"))
    digest.update(json.dumps(tokenizer.special_tokens_map, sort_keys=True, default=str).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(chat_template_of(tokenizer, settings).jinja.encode("utf-8"))
    return digest.hexdigest()


def tokenized_data_version(splits_path, tokenizer, settings: TokenizeSettings) -> str:
    """The version of tokenized splits: a hash of the split data, the tokenizer, the settings and the code."""
    digest = hashlib.sha256(saved_dataset_digest(splits_path).encode())
    digest.update(code_version().encode())
    digest.update(tokenization_fingerprint(tokenizer, settings).encode())
    return digest.hexdigest()


def plain_backend(tokenizer):
    """A copy of the Rust tokenizer with padding and truncation off.

    transformers leaves the padding and truncation of its last call set on the shared backend
    (after `tokenizer(text, padding="max_length", max_length=2048)` every later backend
    encoding comes out padded to 2048); the copy is immune to that, and leaves the caller's
    tokenizer as it was.
    """
    import copy

    backend = copy.deepcopy(tokenizer.backend_tokenizer)
    backend.no_padding()
    backend.no_truncation()
    return backend
