"""One trainer per checkpoint folder, and none outliving its run.

A trainer whose Dagster step is gone (the run was terminated, the step process killed) would go
on writing checkpoints that the next run, with other settings, might resume from. So the local
launcher tells the trainer which process launched it and the trainer ends itself soon after that
process is gone; and the trainer holds an exclusive lock on its output folder for as long as it
runs, so a second trainer on the same folder fails at once, naming the first.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from pathlib import Path

STEP_PID_ENV = "LLM_PIPELINE_STEP_PID"
"""Set by the local launcher: the pid of the Dagster step that launched the trainer."""
LOCK_FILE = ".trainer.lock"
POLL_SECONDS = 2.0


class OutputFolderBusyError(RuntimeError):
    """Another trainer holds the output folder."""


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def end_when_step_ends(environ=os.environ, poll_seconds: float = POLL_SECONDS) -> threading.Thread | None:
    """If `STEP_PID_ENV` names the launching step, watch it from a daemon thread and interrupt this
    process (SIGINT: the Trainer stops as on Ctrl-C) once it is gone, then kill it if it lingers."""
    value = environ.get(STEP_PID_ENV, "")
    if not value.isdigit():
        return None
    step = int(value)

    def watch() -> None:
        while process_alive(step):
            time.sleep(poll_seconds)
        print(f"the Dagster step (pid {step}) that launched this trainer is gone: stopping", flush=True)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="end-when-step-ends", daemon=True)
    thread.start()
    return thread


def hold_output_folder(output_dir: Path):
    """Take the exclusive lock on `output_dir` for this process's lifetime (the kernel drops it when
    the process ends, however it ends); raise OutputFolderBusyError naming the holder if taken."""
    output_dir.mkdir(parents=True, exist_ok=True)
    handle = (output_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise OutputFolderBusyError(
            f"another trainer (pid {holder}) is writing {output_dir}; it must end before this run can train there"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle  # keep a reference: closing it releases the lock
