"""Terminating a run ends its training: the interrupt Dagster's Pipes client sends reaches every
training process, and none is left behind to keep writing checkpoints."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from llm_pipeline.defs.assets.checkpoint import launch_command
from llm_pipeline.training.guard import STEP_PID_ENV
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.tiny import tiny_training_config

pytestmark = pytest.mark.slow
PIPES_TERMINATION_TIMEOUT = 20  # seconds PipesSubprocessClient waits after its SIGINT


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def descendants(root: int) -> set[int]:
    """`root` and every live process below it."""
    table = process_table()
    found, pending = set(), [root]
    while pending:
        pid = pending.pop()
        if pid in table and table[pid][1] != "Z" and pid not in found:
            found.add(pid)
            pending.extend(child for child, (parent, _) in table.items() if parent == pid)
    return found


def alive(pids: set[int]) -> set[int]:
    table = process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


@pytest.mark.parametrize("processes", [1, 2])
def test_an_interrupt_ends_every_training_process(tiny_model_dir, tiny_tokenized_dir, tmp_path, processes):
    config = tiny_training_config(
        tiny_model_dir,
        tiny_tokenized_dir,
        tmp_path / "run",
        max_steps=100_000,
        logging_steps=1,
        eval_steps=100_000,
        save_steps=100_000,
        num_processes=processes,
        memory_preflight=False,
    )
    config_path = config.to_json(tmp_path / "config.json")
    log = tmp_path / "trainer.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
    with log.open("w") as output:
        launched = subprocess.Popen(
            launch_command(str(config_path), processes),
            cwd=REPO_ROOT,
            env={**env, "OMP_NUM_THREADS": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        training: set[int] = set()
        try:
            deadline = time.monotonic() + 240
            while "step 3 of" not in log.read_text() and launched.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert launched.poll() is None, log.read_text()[-3000:]
            assert "step 3 of" in log.read_text(), log.read_text()[-3000:]
            training = descendants(launched.pid)
            assert len(training) >= processes  # the launcher's workers run below it

            launched.send_signal(signal.SIGINT)  # what Dagster's Pipes client sends on termination
            launched.wait(timeout=PIPES_TERMINATION_TIMEOUT)
            deadline = time.monotonic() + 10
            while alive(training) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert alive(training) == set(), log.read_text()[-3000:]
        finally:
            for pid in alive(descendants(launched.pid) | training):
                os.kill(pid, signal.SIGKILL)


def test_a_trainer_whose_step_is_gone_ends_itself(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    # The step killed outright (no interrupt sent): the trainer sees its pid gone and stops.
    config = tiny_training_config(
        tiny_model_dir, tiny_tokenized_dir, tmp_path / "run", max_steps=100_000, logging_steps=1,
        eval_steps=100_000, save_steps=100_000, memory_preflight=False,
    )  # fmt: skip
    config_path = config.to_json(tmp_path / "config.json")
    step = subprocess.Popen(["sleep", "600"])  # stands in for the Dagster step process
    log = tmp_path / "trainer.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
    with log.open("w") as output:
        trainer = subprocess.Popen(
            launch_command(str(config_path), 1),
            cwd=REPO_ROOT,
            env={**env, "OMP_NUM_THREADS": "1", STEP_PID_ENV: str(step.pid)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 240
            while "step 3 of" not in log.read_text() and trainer.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert trainer.poll() is None, log.read_text()[-3000:]
            # A second trainer on the same folder is refused while the first holds it.
            second = subprocess.run(
                launch_command(str(config_path), 1), cwd=REPO_ROOT, env={**env, "OMP_NUM_THREADS": "1"},
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert second.returncode != 0
            assert f"another trainer (pid {trainer.pid}) is writing" in second.stderr

            step.kill()
            step.wait()
            trainer.wait(timeout=30)
            assert "that launched this trainer is gone: stopping" in log.read_text()
        finally:
            for process in (trainer, step):
                if process.poll() is None:
                    process.kill()


def test_the_workers_of_a_killed_launcher_end_themselves(tiny_model_dir, tiny_tokenized_dir, tmp_path):
    # SIGKILL leaves torchrun no chance to pass anything on: its workers notice they were orphaned.
    config = tiny_training_config(
        tiny_model_dir, tiny_tokenized_dir, tmp_path / "run", max_steps=100_000, logging_steps=1,
        eval_steps=100_000, save_steps=100_000, num_processes=2, memory_preflight=False,
    )  # fmt: skip
    config_path = config.to_json(tmp_path / "config.json")
    log = tmp_path / "trainer.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_PIPES")}
    training: set[int] = set()
    with log.open("w") as output:
        launched = subprocess.Popen(
            launch_command(str(config_path), 2),
            cwd=REPO_ROOT,
            env={**env, "OMP_NUM_THREADS": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 240
            while "step 3 of" not in log.read_text() and launched.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert "step 3 of" in log.read_text(), log.read_text()[-3000:]
            training = descendants(launched.pid)
            assert len(training) >= 3  # the launcher and its two workers
            launched.kill()
            launched.wait()
            deadline = time.monotonic() + 30
            while alive(training) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert alive(training) == set(), log.read_text()[-3000:]
        finally:
            for pid in alive(training | descendants(launched.pid)):
                os.kill(pid, signal.SIGKILL)
