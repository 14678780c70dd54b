"""Trying a model: which folder, how a conversation becomes input ids, and the memory preflight."""

import shutil

import pytest
from transformers import AutoConfig, AutoTokenizer

from llm_pipeline.generation import Conversation, ModelFolderError, input_ids, model_folder
from llm_pipeline.inference_memory import check_inference_fits, estimate_inference
from llm_pipeline.training.memory import MemoryPlanError

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def test_the_promoted_model_or_a_named_folder_and_clear_errors_otherwise(tiny_model_dir, tmp_path):
    models = tmp_path / "models"
    with pytest.raises(
        ModelFolderError, match="no promoted model in .* yet: run the pipeline first .* or pass --model"
    ):
        model_folder(None, models)
    shutil.copytree(tiny_model_dir, models / "promoted")
    assert model_folder(None, models) == models / "promoted"
    assert model_folder(str(tiny_model_dir), models) == tiny_model_dir.resolve()
    with pytest.raises(ModelFolderError, match="no such folder"):
        model_folder(str(tmp_path / "nowhere"), models)
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelFolderError, match="holds a LoRA adapter, not a model"):
        model_folder(str(tmp_path / "adapter"), models)
    with pytest.raises(ModelFolderError, match="is not a model folder: it has no config.json"):
        model_folder(str(tmp_path), models)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelFolderError, match="has no tokenizer"):
        model_folder(str(tmp_path), models)


def test_without_a_chat_template_a_conversation_is_text_to_continue(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert not tokenizer.chat_template  # a plain base model
    conversation = Conversation(system="Be brief.")
    conversation.add("What do bees make?", "Honey.")
    ids = input_ids(tokenizer, conversation.messages("And wax?"))
    assert ids == tokenizer("Be brief.\n\nWhat do bees make?\n\nHoney.\n\nAnd wax?")["input_ids"]
    assert tokenizer.eos_token_id not in ids  # continued, not closed
    conversation.reset()
    assert conversation.messages("x") == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x"}]


def test_a_chat_template_renders_the_conversation(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = CHAT_TEMPLATE
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    ids = input_ids(tokenizer, messages)
    assert tokenizer.decode(ids) == "<|user|>Hi\n<|assistant|>Hello\n<|user|>Bye\n<|assistant|>"


def test_the_preflight_counts_the_weights_and_refuses_a_device_too_small(tiny_model_dir):
    config = AutoConfig.from_pretrained(tiny_model_dir)
    estimate = estimate_inference(tiny_model_dir, config, tokens=100, cuda=False)
    assert estimate.weights == (tiny_model_dir / "model.safetensors").stat().st_size
    # fp32 keys and values: 2 * layers * heads * head_dim * tokens * 4 bytes.
    assert estimate.kv_cache == 2 * 2 * 4 * 16 * 100 * 4
    assert estimate_inference(tiny_model_dir, config, tokens=200, cuda=False).kv_cache == 2 * estimate.kv_cache
    assert check_inference_fits(estimate, estimate.total, "the tiny model") is estimate
    with pytest.raises(MemoryPlanError, match=r"generating with the tiny model needs ~0\.\d\d GiB \(weights"):
        check_inference_fits(estimate, estimate.total - 1, "the tiny model")
