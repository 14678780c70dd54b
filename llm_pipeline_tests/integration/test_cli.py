"""`llm-pipeline` as a user runs it: a run with the project file and its summary, `status` naming
what a settings edit made stale, `settings` printing a file the loader takes back, bad files refused;
`generate` and `chat` streaming a model's greedy replies."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from llm_pipeline.defs.project import project_from_mapping

DATASET = "plaintext,filtered,clustered,splits"


def cli(*args: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llm_pipeline.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status_of(output: str) -> dict[str, str]:
    rows = [line.split(None, 1) for line in output.splitlines() if line and not line.startswith(("project", "data"))]
    return {row[0]: row[1] for row in rows if len(row) == 2}


@pytest.mark.slow
def test_run_prints_a_summary_and_status_names_what_a_settings_edit_made_stale(raw_data_dir, tmp_path: Path):
    project = tmp_path / "llm_pipeline.yaml"
    project.write_text(f"data_dir: {raw_data_dir}\nsplits: {{validation_ratio: 0.25}}\n")
    env = {"LLM_PIPELINE_CONFIG": str(project), "DAGSTER_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    env_without_data_dir = {**env, "LLM_PIPELINE_DATA_DIR": ""}

    ran = cli("run", "--select", DATASET, env=env_without_data_dir)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    summary = ran.stdout[ran.stdout.index("\nrun ") :]
    assert "succeeded" in summary
    table = {
        line.split()[0]: line.split()[1:] for line in summary.splitlines() if line.startswith(("plaintext", "filtered"))
    }
    records_in, kept, dropped, rejected = (int(value.replace(",", "")) for value in table["plaintext"][:4])
    assert records_in == kept + dropped + rejected and rejected > 0
    assert table["plaintext"][4] == str(raw_data_dir / "plaintext")
    assert "checks: " in summary and " 0 failed" in summary
    assert f"{raw_data_dir}/rejected/<stage>/" in summary
    assert (tmp_path / "home" / "dagster.yaml").is_file()  # the instance was set up as `make instance` does

    before = cli("status", env=env_without_data_dir)
    assert before.returncode == 0, before.stderr[-3000:]
    states = status_of(before.stdout)
    assert states["plaintext"] == "fresh" and states["splits"] == "fresh"
    assert states["tokenized"] == "missing" and states["checkpoint"] == "missing"

    project.write_text(project.read_text() + "filtered: {quality: {min_words_text: 4}}\n")
    after = status_of(cli("status", env=env_without_data_dir).stdout)
    assert after["plaintext"] == "fresh"
    assert after["filtered"].startswith("stale") and "code version" in after["filtered"]
    assert after["clustered"].startswith("stale") and "filtered" in after["clustered"]


def test_settings_prints_every_key_in_a_file_the_loader_takes_back(tmp_path):
    project = tmp_path / "llm_pipeline.yaml"
    project.write_text("base_model: {model_name_or_path: org/model}\nfiltered: {language: {languages: [en, fr]}}\n")
    printed = cli("settings", env={"LLM_PIPELINE_CONFIG": str(project)})
    assert printed.returncode == 0, printed.stderr
    content = yaml.safe_load(printed.stdout)
    assert content["checkpoint"]["method"] == "lora" and content["filtered"]["language"]["languages"] == ["en", "fr"]
    assert "# `full` trains every weight" in printed.stdout
    content.pop("data_dir")
    reloaded = project_from_mapping(content, None, {})
    assert reloaded.of("filtered").language.languages == ("en", "fr")


def test_a_bad_project_file_stops_every_command_with_the_key_named(tmp_path):
    project = tmp_path / "llm_pipeline.yaml"
    project.write_text("checkpoint: {method: QLoRA}\n")
    for command in (["run"], ["status"], ["settings"]):
        refused = cli(*command, env={"LLM_PIPELINE_CONFIG": str(project), "DAGSTER_HOME": str(tmp_path / "home")})
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr[-2000:])
        assert "checkpoint.method: Input should be 'full', 'lora' or 'qlora' (got 'QLoRA')" in refused.stderr
        assert "Traceback" not in refused.stderr


CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def chat_model(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model with a simple chat template saved with its tokenizer."""
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("chat") / "model"
    shutil.copytree(tiny_model_dir, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    return folder


def greedy(folder: Path, messages: list[dict], max_new_tokens: int) -> str:
    """The reply `model.generate` gives directly, greedy, for the conversation through the chat template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=False)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def user(text: str) -> dict:
    return {"role": "user", "content": text}


@pytest.mark.slow
def test_generate_streams_the_greedy_reply_of_the_model(chat_model, tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    done = cli("generate", "What do bees make?", "--model", str(chat_model), "--max-new-tokens", "12", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == greedy(chat_model, [user("What do bees make?")], 12) + "\n"
    assert "prompts by the tokenizer's chat template" in done.stderr

    missing = cli("generate", "Hi", env={**env, "LLM_PIPELINE_DATA_DIR": str(tmp_path / "data")})
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert f"no promoted model in {tmp_path / 'data' / 'models' / 'promoted'} yet: run the pipeline first" in (
        missing.stderr
    )
    too_big = cli("generate", "Hi", "--model", str(chat_model), "--max-memory-mb", "1", env=env)
    assert (
        too_big.returncode == 2 and "needs ~0." in too_big.stderr and "but only 0.00 GiB is available" in too_big.stderr
    )
    assert "Loading weights" not in too_big.stderr  # refused before the model was loaded


@pytest.mark.slow
def test_chat_keeps_the_conversation_until_reset(chat_model, tmp_path):
    first, second, tokens = "What do bees make?", "Why is the sky blue?", 8
    reply = greedy(chat_model, [user(first)], tokens)
    with_history = greedy(chat_model, [user(first), {"role": "assistant", "content": reply}, user(second)], tokens)
    alone = greedy(chat_model, [user(second)], tokens)
    assert with_history != alone  # else this test could not tell a kept conversation from a lost one

    chat = subprocess.run(
        [sys.executable, "-m", "llm_pipeline.cli", "chat", "--model", str(chat_model), "--max-new-tokens", str(tokens)],
        input=f"{first}\n{second}\n/reset\n{second}\n/exit\nnot read\n",
        env={**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert chat.returncode == 0, chat.stderr[-3000:]
    # The second prompt held the first exchange; after /reset the same question stands alone.
    assert chat.stdout == f"{reply}\n{with_history}\n{alone}\n"
    assert "(the conversation starts over)" in chat.stderr
