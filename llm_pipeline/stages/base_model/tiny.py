"""A tiny, randomly initialised Llama and its tokenizer, built locally from the corpus itself.

It is the default base model when none is configured (a dry run on a laptop, tests, CI): the
whole graph runs end to end without a hub download, and a real model id or path replaces it
through the same config field.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from llm_pipeline.stages.tokenized.chat_template import IM_END, IM_START
from llm_pipeline.storage.atomic import atomic_dir

SPECIAL_TOKENS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
CHAT_TOKENS = [IM_START, IM_END]
"""ChatML's turn markers, so that `chat_template: auto` renders conversations as ChatML (see the
tokenized stage's chat_template). EOS stays `</s>`, the end of a text; `<|im_end|>` ends a turn,
and generation stops at either (`generation_config.eos_token_id`)."""


def build_tiny_base_model(
    texts: Iterable[str],
    out_dir: str | Path,
    *,
    vocab_size: int = 2048,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    max_position_embeddings: int = 1024,
    seed: int = 0,
) -> Path:
    """Train a byte-level BPE tokenizer on `texts`, build a random `LlamaForCausalLM`, save both.

    The result is written to a temporary folder next to `out_dir` and renamed into place, so a
    crash never leaves a half-written model behind; an existing `out_dir` is replaced. The same
    texts and seed give the same tokenizer and the same weights.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    special = [*SPECIAL_TOKENS.values(), *CHAT_TOKENS]

    bpe = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special,
        # every byte is in the alphabet, so no text ever maps to <unk>
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator((text for text in texts if text), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, extra_special_tokens=CHAT_TOKENS, **SPECIAL_TOKENS)
    tokenizer.model_max_length = max_position_embeddings

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 4,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    # A reply rendered through the chat template ends with <|im_end|>, a text with EOS: stop at either.
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(IM_END)]

    with atomic_dir(out_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return out_dir
