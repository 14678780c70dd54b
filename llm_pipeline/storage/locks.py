"""One writer per stage of a data directory, whichever process, run or Dagster instance it is.

Atomic swaps (`atomic.py`) keep readers from seeing half an output, but two writers of the same
stage (two instances, or two deployments, sharing one data directory) would still interleave:
one's checkpoint resumed by the other, one's cache rows beside the other's output. So a writer
holds an exclusive lock, `<data dir>/.locks/<stage>.lock`, for as long as it writes. A second
writer waits, saying who holds it, and fails with that holder's name once it has waited too long.
The kernel drops the lock when its process ends, however it ends: no lock outlives its writer.

A step that reads a stage (its inputs, or an asset check reading what a stage wrote) holds the
same lock shared: any number of readers at once, but no writer swaps the folder while one reads,
so no reader sees half of one run's output beside half of another's. Readers note themselves in
`<stage>.readers/`, so that a writer waiting behind them can say who they are.
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

from llm_pipeline.storage.atomic import process_alive

LOCKS_DIR_NAME = ".locks"
DEFAULT_WAIT_S = 600
POLL_SECONDS = 1.0
WAIT_LOG_EVERY_S = 60.0


class StageBusyError(RuntimeError):
    """Another writer kept the stage's lock for longer than this writer would wait."""


def lock_path(data_dir: Path, stage: str) -> Path:
    return data_dir / LOCKS_DIR_NAME / f"{stage}.lock"


def _readers_dir(path: Path) -> Path:
    return path.with_name(f"{path.stem}.readers")


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
    shared: bool = False,
) -> Iterator[None]:
    """Hold the lock of `stage` in `data_dir` for the block: exclusive to write, `shared` to read.

    Waits up to `wait_s` for the holders in the way to finish, logging who they are; then raises
    StageBusyError naming them. A writer records itself (run, host, pid, start) in the lock file,
    a reader in the readers folder, for the messages of whoever waits behind them.
    """
    path = lock_path(data_dir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    reader_note = None
    try:
        _acquire(handle, path, stage, wait_s, log, poll_s, shared)
        if shared:
            reader_note = _note_reader(path, run)
        else:
            record_holder(handle, run)
        yield
    finally:
        handle.close()  # closing the file releases the lock
        if reader_note is not None:
            reader_note.unlink(missing_ok=True)


def _acquire(
    handle, path: Path, stage: str, wait_s: float, log: Callable[[str], None], poll_s: float, shared: bool
) -> None:
    started = time.monotonic()
    last_said = None
    doing = "reading" if shared else "writing"
    while True:
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            if last_said is not None:
                log(f"{stage}: the other holder is done after {time.monotonic() - started:.0f} s; {doing} now")
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        holders = _describe_holders(path, shared)
        if waited >= wait_s:
            raise StageBusyError(
                f"{stage} is {holders} (lock {path}), still after {waited:.0f} s of waiting: two pipelines share "
                f"this data directory. Let that one finish, or give each its own data directory"
            )
        if last_said is None or time.monotonic() - last_said >= WAIT_LOG_EVERY_S:
            log(f"{stage} is {holders}; waiting up to {wait_s:.0f} s for it to finish before {doing}")
            last_said = time.monotonic()
        time.sleep(poll_s)


def _describe_holders(path: Path, shared: bool) -> str:
    """Who is in the way: the writer (a reader waits only for one), else the readers still alive."""
    if not shared:
        readers = [holder for holder in _readers(path) if _alive(holder)]
        if readers:
            return "being read by " + "; ".join(describe_holder(holder) for holder in readers)
    return f"being written by another writer ({describe_holder(read_holder(path))})"


def _note_reader(path: Path, run: str) -> Path:
    folder = _readers_dir(path)
    folder.mkdir(exist_ok=True)
    for note in folder.glob("*.json"):  # the notes of killed readers
        if not _alive(read_holder(note)):
            note.unlink(missing_ok=True)
    note = folder / f"{socket.gethostname()}-{os.getpid()}-{time.monotonic_ns()}.json"
    note.write_text(json.dumps(_holder(run)) + "\n", encoding="utf-8")
    return note


def _readers(path: Path) -> list[dict]:
    notes = sorted(_readers_dir(path).glob("*.json")) if _readers_dir(path).is_dir() else []
    return [holder for holder in (read_holder(note) for note in notes) if holder]


def _alive(holder: Mapping[str, object]) -> bool:
    """False only for a holder of this host whose process is gone (a killed reader leaves its note)."""
    pid = holder.get("pid")
    return holder.get("host") != socket.gethostname() or not isinstance(pid, int) or process_alive(pid)


def record_holder(handle, run: str = "") -> None:
    """Write this process (run, host, pid, start) into the lock file it holds, for the messages of
    whoever finds the lock taken."""
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(_holder(run)) + "\n")
    handle.flush()


def _holder(run: str) -> dict:
    return {"run": run, "host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def read_holder(path: Path) -> dict:
    """What the lock's holder wrote about itself; empty while it has not written yet."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
