"""Folders written whole or not at all: a writer works in a sibling folder and swaps it into place.

A crash in the middle of a write never leaves a half-written folder where a reader would look,
and the leftovers of a killed writer are swept by the next writer on the same host.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import json
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

# Work folders beside a stage: .<stage>.<kind>-<host>-<pid>-<random>. Host and pid tell whether
# the writer that owns one is still alive, so leftovers of a killed writer can be swept.
_WORK_KINDS = ("tmp", "cache", "old")


def _work_dir(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def sweep_dead_writers(folder: Path, name: str = "*") -> None:
    """Remove work folders (of the target `name`, or of any) in `folder` left by writers of this
    host that no longer run (killed mid-write)."""
    host = socket.gethostname()
    for kind in _WORK_KINDS:
        for leftover in folder.glob(f".{name}.{kind}-{host}-*"):
            pid = leftover.name.rsplit(f".{kind}-{host}-", 1)[1].split("-")[0]
            if pid.isdigit() and not process_alive(int(pid)):
                shutil.rmtree(leftover, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs (on this host)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _exchange(new: Path, old: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(_LIBC, "renameat2", None) if _LIBC is not None else None
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(old), rename_exchange) == 0


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@contextlib.contextmanager
def scratch_dir(target: Path) -> Iterator[Path]:
    """A work folder beside `target` for the duration of the block (swept later if its writer is killed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_dead_writers(target.parent, target.name)
    scratch = _work_dir(target, "tmp")
    scratch.mkdir()
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces `target` in one atomic step.

    Readers see the old output or the new one, never a half-written one and never none: the
    swap is one `renameat2(RENAME_EXCHANGE)` where the system has it, two renames elsewhere.
    """
    with scratch_dir(target) as staging:
        yield staging
        replace_dir(staging, target)


OWNER_MARKER = ".written_by_llm_pipeline"
"""In every folder this project publishes: only such a folder is ever replaced (or deleted with it).
It names the run that wrote the folder (`provenance.py`)."""
WRITING_RUN: contextvars.ContextVar[str] = contextvars.ContextVar("llm_pipeline_writing_run", default="")
"""The Dagster run whose step is publishing folders now ("" outside a run)."""


def owner_marker(run: str) -> str:
    return json.dumps({"written_by": "llm_pipeline", "run": run}) + "\n"


# What folders written before the marker existed hold: a datasets save, a model, a parse cache entry.
_EARLIER_OUTPUT_FILES = ("state.json", "dataset_dict.json", "config.json", "adapter_config.json", "records.arrow")


class ForeignFolderError(OSError):
    """A folder in the place of an output that this project did not write: it is never replaced."""


def written_here(folder: Path) -> bool:
    """Whether `folder` is an output of this project (marked, or one from before the marker)."""
    return any((folder / name).exists() for name in (OWNER_MARKER, *_EARLIER_OUTPUT_FILES))


def replace_dir(source: Path, target: Path) -> None:
    """Put the folder `source` in the place of `target` (if any) in one atomic step where the system
    allows; afterwards `source` holds the previous `target` (or is gone), for the caller to remove.

    `source` is marked as this project's output first, and a `target` that is not one (a user's
    own folder where a stage would write: a data directory pointed at the wrong place) raises
    ForeignFolderError and stays untouched.
    """
    if target.exists() and not written_here(target):
        raise ForeignFolderError(
            f"{target} exists and was not written by llm_pipeline: it is left as it is. Move it away, or point "
            "the data directory elsewhere"
        )
    (source / OWNER_MARKER).write_text(owner_marker(WRITING_RUN.get()), encoding="utf-8")
    if not target.exists():
        source.rename(target)
    elif not _exchange(source, target):
        retired = _work_dir(target, "old")
        target.rename(retired)
        source.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
