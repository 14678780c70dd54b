"""A full disk named as such: which folder, how much is free, what one checkpoint takes.

torch and safetensors report a full disk from deep inside their writers ("unexpected pos ...",
"os error 28"), and the half-written checkpoint they leave takes the space that the trainer's
own failure report would need. So the trainer recognises the error anywhere in the chain,
removes the unfinished checkpoints (worthless: never resumed from) and fails with one line.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Sequence
from pathlib import Path

from llm_pipeline.training.checkpoints import checkpoint_step, remove_unfinished_checkpoints

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_FULL_MESSAGES = ("no space left on device", "os error 28", "disk quota exceeded", "storagefull")
NEARLY_FULL_MB = 64


class DiskFullError(OSError):
    """No space left where the trainer writes. Launching again fails the same way until space is freed."""


def is_disk_full(error: BaseException, folder: Path) -> bool:
    """Whether a full disk (or quota) caused `error`: said anywhere in its cause and context chain,
    or, since torch's writers often say only "unexpected pos" or "iostream error", an I/O or
    runtime error while next to nothing is left on the disk of `folder`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if any(message in str(current).lower() for message in _FULL_MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return isinstance(error, (OSError, RuntimeError)) and free_mb(folder) < NEARLY_FULL_MB


def free_mb(folder: Path) -> float:
    """Space left to this user on the disk of `folder` (or of its nearest existing parent)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free / 2**20


def disk_full_error(
    error: BaseException, output_dir: Path, save_total_limit: int, leftovers: Sequence[Path] = ()
) -> DiskFullError | None:
    """The DiskFullError that explains `error`, after freeing the space of unfinished checkpoints
    and of the half-written `leftovers`; None when `error` is not a full disk."""
    if not is_disk_full(error, output_dir):
        return None
    checkpoints = [path for path in output_dir.glob("checkpoint-*") if checkpoint_step(path) is not None]
    checkpoint_mb = max((folder_mb(path) for path in checkpoints), default=0.0)
    remove_unfinished_checkpoints(output_dir)
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)
    return DiskFullError(
        errno.ENOSPC,
        f"no space left on the disk that holds {output_dir} ({free_mb(output_dir):.0f} MB free after removing the unfinished "
        f"checkpoint; one checkpoint takes about {checkpoint_mb:.0f} MB and up to {save_total_limit} are kept, "
        "plus the final model): free space there, lower save_total_limit, or give the data directory a larger disk",
    )


def folder_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20
