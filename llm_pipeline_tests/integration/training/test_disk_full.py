"""A full disk is named as such, with its folder, and not retried; the half-written checkpoint is removed."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys

import pytest

from llm_pipeline.training.disk import is_disk_full
from llm_pipeline.training.train import FAILURE_FILE
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.tiny import tiny_training_config


def raised_while_handling(first: BaseException, second: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException:
            raise second  # noqa: B904 - the implicit context is the point
    except BaseException as error:
        return error


def test_a_full_disk_is_recognised_however_deep_the_writer_reports_it(tmp_path):
    def enospc():
        return OSError(errno.ENOSPC, "No space left on device")

    def torch_save():
        return RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 136512 vs 136400")

    assert is_disk_full(raised_while_handling(torch_save(), enospc()), tmp_path)
    assert is_disk_full(raised_while_handling(enospc(), torch_save()), tmp_path)
    assert is_disk_full(
        RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)"), tmp_path
    )
    # The same words from torch with plenty of space left: not a full disk.
    assert shutil.disk_usage(tmp_path).free > 2**30
    assert not is_disk_full(torch_save(), tmp_path)
    assert not is_disk_full(ValueError("learning_rate must be a positive number"), tmp_path)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs: room for the start of a tiny model's checkpoint, not for all of it."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"needs permission to mount a small tmpfs (root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.mark.slow
def test_a_trainer_on_a_full_disk_fails_once_naming_the_folder(
    small_disk, tiny_model_dir, tiny_tokenized_dir, tmp_path
):
    output_dir = small_disk / "run"
    config = tiny_training_config(
        tiny_model_dir, tiny_tokenized_dir, output_dir, method="full", max_steps=4, save_steps=2, eval_steps=4
    )
    config_path = config.to_json(tmp_path / "config.json")
    trainer = subprocess.run(
        [sys.executable, "-m", "llm_pipeline.training.train", "--config", str(config_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trainer.returncode == 1
    failure = json.loads((output_dir / FAILURE_FILE).read_text())
    assert failure["error"].startswith(f"DiskFullError: [Errno 28] no space left on the disk that holds {output_dir} (")
    assert "lower save_total_limit" in failure["error"]
    assert failure["retry"] is False
    assert not list(output_dir.glob("checkpoint-*"))  # the unfinished checkpoint's space was given back
