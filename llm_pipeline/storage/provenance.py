"""Which run wrote a stage's folder, so that a step never reads another pipeline's output as its own.

Two runs with different settings can share one data directory: each stage has one writer at a
time (`locks.py`), but run B may replace `splits` between run A's `splits` step and A's
`tokenized` step, and A would tokenize B's records. So every published folder names the run
that wrote it (or that last confirmed it unchanged), in its owner marker, and a step compares
each input folder's run with the run its Dagster instance last recorded materializing that
asset: the same, or the step fails naming the other run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from llm_pipeline.storage.atomic import OWNER_MARKER, WRITING_RUN, owner_marker


@contextlib.contextmanager
def writing_run(run: str) -> Iterator[None]:
    """Folders published inside the block name `run` as their writer."""
    token = WRITING_RUN.set(run)
    try:
        yield
    finally:
        WRITING_RUN.reset(token)


def stamp(folder: Path, run: str) -> None:
    """Name `run` in the marker of a folder it kept as it was (its output did not need rewriting)."""
    marker = folder / OWNER_MARKER
    if not marker.is_file():
        return
    staged = folder / f".{OWNER_MARKER}.{os.getpid()}"
    staged.write_text(owner_marker(run), encoding="utf-8")
    os.replace(staged, marker)  # a reader sees the old marker or the new one, whole


def written_by(folder: Path) -> str | None:
    """The run a published folder names (None: unknown, a folder from before runs were named)."""
    try:
        marker = json.loads((folder / OWNER_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run = marker.get("run") if isinstance(marker, dict) else None
    return run or None
