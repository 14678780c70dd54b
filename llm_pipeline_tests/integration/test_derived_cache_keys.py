"""Cache keys follow the code: an edit to a function a cached result depends on misses the cache.

The package is copied, the copy runs `plaintext` through the Dagster CLI, a function is edited in
the copy, and the parse cache's entries (one folder per key) are compared between runs.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llm_pipeline_tests.support import REPO_ROOT

pytestmark = pytest.mark.slow


def materialize_plaintext(package_root: Path, data_dir: Path, home: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(package_root),  # ahead of the installed (editable) package
        "LLM_PIPELINE_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
    }
    command = [sys.executable, "-m", "dagster", "asset", "materialize", "--select", "plaintext"]
    command += ["-m", "llm_pipeline.definitions"]
    result = subprocess.run(command, env=env, cwd=package_root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def cache_keys(data_dir: Path) -> set[str]:
    cache = data_dir / "cache" / "plaintext"
    return {entry.name for shard in cache.iterdir() if shard.is_dir() for entry in shard.iterdir()}


def append_function(module: Path) -> None:
    with module.open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef _edited_by_the_test():\n    return 1\n")


def test_editing_parsing_code_misses_the_parse_cache_and_other_code_does_not(raw_data_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(REPO_ROOT / "llm_pipeline", copy / "llm_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()

    materialize_plaintext(copy, raw_data_dir, home)
    first = cache_keys(raw_data_dir)
    assert first, "the first run wrote no parse cache entries"

    append_function(copy / "llm_pipeline" / "training" / "plot.py")  # not imported by parsing
    materialize_plaintext(copy, raw_data_dir, home)
    assert cache_keys(raw_data_dir) == first

    append_function(copy / "llm_pipeline" / "parse" / "tabular.py")  # imported by the CSV and SQL readers
    materialize_plaintext(copy, raw_data_dir, home)
    after_edit = cache_keys(raw_data_dir)
    assert after_edit.isdisjoint(first), "an entry parsed by the old code was reused after the edit"
    assert len(after_edit) == len(first)


def tokenized_code_version(package_root: Path) -> str:
    script = "from llm_pipeline.stages.tokenized.version import code_version; print(code_version())"
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    # cwd: `python -c` puts the working directory ahead of PYTHONPATH.
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=package_root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_editing_the_packer_gives_tokenized_a_new_code_version(tmp_path):
    """The tokenized asset's code version (and so its data version) follows the packing code it imports."""
    copy = tmp_path / "copy"
    shutil.copytree(REPO_ROOT / "llm_pipeline", copy / "llm_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    before = tokenized_code_version(copy)
    append_function(copy / "llm_pipeline" / "training" / "plot.py")
    assert tokenized_code_version(copy) == before
    append_function(copy / "llm_pipeline" / "stages" / "tokenized" / "pack.py")
    assert tokenized_code_version(copy) != before
