"""One trainer per checkpoint folder, and none outliving its run.

A trainer whose Dagster step is gone (the run was terminated, the step process killed) or whose
launcher was killed would go on writing checkpoints that the next run, with other settings, might
resume from. So the trainer watches its parent, and the step the local launcher names, and ends
itself soon after either is gone; and the trainer holds an exclusive lock on its output folder for as long as it
runs, so a second trainer on the same folder fails at once, naming the first.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from pathlib import Path

from llm_pipeline.storage.atomic import process_alive
from llm_pipeline.storage.locks import read_holder, record_holder

STEP_PID_ENV = "LLM_PIPELINE_STEP_PID"
"""Set by the local launcher: the pid of the Dagster step that launched the trainer."""
LOCK_FILE = ".trainer.lock"
POLL_SECONDS = 2.0


class OutputFolderBusyError(RuntimeError):
    """Another trainer holds the output folder."""


def end_when_step_ends(environ=os.environ, poll_seconds: float = POLL_SECONDS) -> threading.Thread:
    """Watch, from a daemon thread, the process that launched this trainer: this process's parent
    (a killed launcher leaves its workers to init), and the Dagster step `STEP_PID_ENV` names
    when set. Once either is gone, interrupt this process (SIGINT: the Trainer stops as on Ctrl-C),
    then kill it if it lingers."""
    value = environ.get(STEP_PID_ENV, "")
    step = int(value) if value.isdigit() else None
    parent = os.getppid()

    def gone() -> str | None:
        if os.getppid() != parent:
            return f"the process that launched this trainer (pid {parent}) is gone"
        if step is not None and not process_alive(step):
            return f"the Dagster step (pid {step}) that launched this trainer is gone"
        return None

    def watch() -> None:
        while (reason := gone()) is None:
            time.sleep(poll_seconds)
        print(f"{reason}: stopping", flush=True)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="end-when-launcher-ends", daemon=True)
    thread.start()
    return thread


def hold_output_folder(output_dir: Path):
    """Take the exclusive lock on `output_dir` for this process's lifetime (the kernel drops it when
    the process ends, however it ends); raise OutputFolderBusyError naming the holder if taken."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / LOCK_FILE
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        holder = read_holder(path).get("pid", "unknown")
        raise OutputFolderBusyError(
            f"another trainer (pid {holder}) is writing {output_dir}; it must end before this run can train there"
        ) from None
    record_holder(handle)  # the same record the stage locks keep (storage.locks)
    return handle  # keep a reference: closing it releases the lock
