"""The settings of the base_model stage: a model to use, or the shape of the tiny one built locally."""

from __future__ import annotations

from dataclasses import dataclass

from llm_pipeline.setting import setting


@dataclass(frozen=True)
class BaseModelSettings:
    """The base model to fine-tune: a configured model, or a tiny one built from the training split."""

    model_name_or_path: str = setting(
        "",
        "Hugging Face model id (e.g. `meta-llama/Llama-3.2-1B`) or local directory. Empty: a tiny Llama "
        "and a byte-level BPE tokenizer are built locally from the training split (no download, runs on CPU).",
    )
    trust_remote_code: bool = setting(
        False,
        "Run the Python code a model ships with its weights (custom architectures: `auto_map` in its config). "
        "Off: such a model is refused with a message naming this setting. Turn it on only for code you trust; "
        "every stage that loads the model follows it.",
    )
    tiny_vocab_size: int = setting(2048, "Tokenizer vocabulary of the locally built tiny model.")
    tiny_hidden_size: int = setting(64, "Hidden width of the locally built tiny model.")
    tiny_layers: int = setting(2, "Transformer layers of the locally built tiny model.")
    tiny_heads: int = setting(4, "Attention heads of the locally built tiny model.")
    seed: int = setting(0, "Seed of the tiny model's initial weights and tokenizer.")
