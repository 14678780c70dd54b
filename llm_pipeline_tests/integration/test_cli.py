"""`llm-pipeline` as a user runs it: a run with the project file and its summary, `status` naming
what a settings edit made stale, `settings` printing a file the loader takes back, bad files refused."""

import os
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
