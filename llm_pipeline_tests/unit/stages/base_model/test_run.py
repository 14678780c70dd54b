"""The base_model stage's run: a tiny model built from the training split, or a configured one named."""

import shutil

import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.base_model.reference import model_ref_trusts_code, model_version, read_model_ref
from llm_pipeline.stages.base_model.run import CONFIGURED_ORIGIN, run
from llm_pipeline.stages.base_model.settings import BaseModelSettings
from llm_pipeline.stages.base_model.weights import BaseModelError
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import save_records
from llm_pipeline_tests.support.tiny import SENTENCES, build_custom_code_model


def test_without_a_configured_model_a_tiny_one_is_built_from_the_training_split(tmp_path):
    layout = DataLayout(tmp_path)
    records = [Record.unsupervised(text, f"notes.txt:{i}", "jsonl") for i, text in enumerate(SENTENCES)]
    save_records(records, layout.stage("splits") / "train")
    settings = BaseModelSettings(tiny_vocab_size=300, tiny_hidden_size=32, tiny_layers=1, tiny_heads=2)
    messages = []
    result = run(layout, settings, log=messages.append)

    assert result.built_locally and read_model_ref(layout.models) == result.model == str(layout.models / "base")
    assert result.vocab_size == 300 and result.hidden_size == 32 and result.layers == 1
    assert result.architecture == "LlamaForCausalLM"
    assert messages == [f"building a tiny Llama and a BPE tokenizer from {len(SENTENCES)} training records"]
    again = run(layout, settings)
    assert again.data_version == result.data_version  # same split, same settings: same model


def test_a_configured_model_is_named_not_built(tmp_path, tiny_model_dir):
    layout = DataLayout(tmp_path)
    result = run(layout, BaseModelSettings(model_name_or_path=str(tiny_model_dir)))
    assert not result.built_locally and result.origin == CONFIGURED_ORIGIN
    assert read_model_ref(layout.models) == str(tiny_model_dir) and not (layout.models / "base").exists()
    assert result.data_version == model_version(str(tiny_model_dir))


def test_a_local_model_that_does_not_exist_is_named_as_a_path(tmp_path):
    with pytest.raises(BaseModelError, match="'/models/absent': no such folder"):
        run(DataLayout(tmp_path), BaseModelSettings(model_name_or_path="/models/absent"))


def test_truncated_weights_fail_here_not_in_the_trainer(tmp_path, tiny_model_dir):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    weights = next(model.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(BaseModelError, match=r"model.safetensors: truncated: [\d,]+ bytes, its header describes"):
        run(DataLayout(tmp_path / "data"), BaseModelSettings(model_name_or_path=str(model)))


def test_new_weights_under_the_same_name_and_size_are_a_new_data_version(tmp_path, tiny_model_dir):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    layout = DataLayout(tmp_path / "data")
    before = run(layout, BaseModelSettings(model_name_or_path=str(model))).data_version
    weights = next(model.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert run(layout, BaseModelSettings(model_name_or_path=str(model))).data_version != before


def test_a_model_that_ships_its_own_code_is_refused_naming_the_setting_unless_trusted(tmp_path, tiny_model_dir):
    model = build_custom_code_model(tiny_model_dir, tmp_path / "custom")
    layout = DataLayout(tmp_path / "data")
    with pytest.raises(BaseModelError, match="ships its own Python code .* base_model.trust_remote_code is true"):
        run(layout, BaseModelSettings(model_name_or_path=str(model)))
    assert not (layout.models / "base_model.json").exists()

    trusted = run(layout, BaseModelSettings(model_name_or_path=str(model), trust_remote_code=True))
    assert trusted.architecture == "TinyCustomForCausalLM"
    assert read_model_ref(layout.models) == str(model) and model_ref_trusts_code(layout.models)
    # The model's code is part of its version: edited code, new version.
    (model / "modeling_tiny_custom.py").write_text((model / "modeling_tiny_custom.py").read_text() + "\n# edited\n")
    assert run(layout, BaseModelSettings(model_name_or_path=str(model), trust_remote_code=True)).data_version != (
        trusted.data_version
    )


def test_the_tiny_tokenizer_learns_chat_turns_and_has_chatml_tokens(tmp_path):
    import datasets
    from transformers import AutoTokenizer, GenerationConfig

    from llm_pipeline.stages.base_model.run import training_texts

    messages = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
    features = datasets.Features(
        {**{name: datasets.Value("string") for name in ("id", "text", "input", "output")}, "messages": messages}
    )
    chat = [{"role": "user", "content": "Quokkas?"}, {"role": "assistant", "content": "Marsupials."}]
    split = datasets.Dataset.from_list(
        [
            {"id": "a", "text": "A text.", "input": None, "output": None, "messages": None},
            {"id": "b", "text": None, "input": "Q?", "output": "A.", "messages": None},
            {"id": "c", "text": None, "input": None, "output": None, "messages": chat},
        ],
        features=features,
    )
    assert list(training_texts(split)) == ["A text.", "Q?\nA.", "Quokkas?\nMarsupials."]

    split.save_to_disk(str(tmp_path / "splits" / "train"))
    run(DataLayout(tmp_path), BaseModelSettings(tiny_vocab_size=300, tiny_hidden_size=32, tiny_layers=1, tiny_heads=2))
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "models" / "base")
    im_start, im_end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    assert tokenizer("<|im_start|>user\n")["input_ids"][0] == im_start  # one token each, never split
    assert tokenizer.eos_token == "</s>"  # a text still ends with EOS; a turn with <|im_end|>
    eos_ids = GenerationConfig.from_pretrained(tmp_path / "models" / "base").eos_token_id
    assert eos_ids == [tokenizer.eos_token_id, im_end]
