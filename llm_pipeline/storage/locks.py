"""One writer per stage of a data directory, whichever process, run or Dagster instance it is.

Atomic swaps (`atomic.py`) keep readers from seeing half an output, but two writers of the same
stage (two instances, or two deployments, sharing one data directory) would still interleave:
one's checkpoint resumed by the other, one's cache rows beside the other's output. So a writer
holds an exclusive lock, `<data dir>/.locks/<stage>.lock`, for as long as it writes. A second
writer waits, saying who holds it, and fails with that holder's name once it has waited too long.
The kernel drops the lock when its process ends, however it ends: no lock outlives its writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

LOCKS_DIR_NAME = ".locks"
DEFAULT_WAIT_S = 600
POLL_SECONDS = 1.0
WAIT_LOG_EVERY_S = 60.0


class StageBusyError(RuntimeError):
    """Another writer kept the stage's lock for longer than this writer would wait."""


def lock_path(data_dir: Path, stage: str) -> Path:
    return data_dir / LOCKS_DIR_NAME / f"{stage}.lock"


def describe_holder(holder: Mapping[str, object]) -> str:
    """A holder as a person reads it: which run, which pid on which host, since when."""
    run = f"run {holder['run']}, " if holder.get("run") else ""
    since = f", since {holder['since']}" if holder.get("since") else ""
    return f"{run}pid {holder.get('pid', '?')} on {holder.get('host', '?')}{since}"


@contextlib.contextmanager
def stage_lock(
    data_dir: Path,
    stage: str,
    *,
    run: str = "",
    wait_s: float = DEFAULT_WAIT_S,
    log: Callable[[str], None] = print,
    poll_s: float = POLL_SECONDS,
) -> Iterator[None]:
    """Hold the exclusive write lock of `stage` in `data_dir` for the block.

    Waits up to `wait_s` for another holder to finish, logging who it is; then raises
    StageBusyError naming it. The lock file records this holder (run, host, pid, start) for the
    messages of the writers that wait behind it.
    """
    path = lock_path(data_dir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        _acquire(handle, path, stage, wait_s, log, poll_s)
        record_holder(handle, run)
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _acquire(handle, path: Path, stage: str, wait_s: float, log: Callable[[str], None], poll_s: float) -> None:
    started = time.monotonic()
    last_said = None
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if last_said is not None:
                log(f"{stage}: the other writer is done after {time.monotonic() - started:.0f} s; writing now")
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        holder = describe_holder(read_holder(path))
        if waited >= wait_s:
            raise StageBusyError(
                f"{stage} is being written by another writer ({holder}; lock {path}), still after {waited:.0f} s "
                f"of waiting: two pipelines share this data directory. Let that one finish, or give each its own "
                f"data directory"
            )
        if last_said is None or time.monotonic() - last_said >= WAIT_LOG_EVERY_S:
            log(f"{stage} is being written by another writer ({holder}); waiting up to {wait_s:.0f} s for it to finish")
            last_said = time.monotonic()
        time.sleep(poll_s)


def record_holder(handle, run: str = "") -> None:
    """Write this process (run, host, pid, start) into the lock file it holds, for the messages of
    whoever finds the lock taken."""
    handle.seek(0)
    handle.truncate()
    holder = {"run": run, "host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    handle.write(json.dumps(holder) + "\n")
    handle.flush()


def read_holder(path: Path) -> dict:
    """What the lock's holder wrote about itself; empty while it has not written yet."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
