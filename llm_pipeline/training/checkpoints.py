"""Which checkpoint a run may resume from: only a complete one, and only of the same run.

The Trainer writes `checkpoint-<step>/` folders in several files (weights, optimizer,
scheduler, random states, trainer state). A process killed in the middle leaves a folder that
looks like a checkpoint but is not. So a checkpoint counts only once `COMPLETE_MARKER` is in it,
written after everything else (`mark_complete`). And a checkpoint counts only for the run that
wrote it: `output_dir/RUN_FILE` holds a fingerprint of the config (less the bookkeeping fields)
and of the data, and a run with another fingerprint starts over instead of resuming someone
else's optimizer state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from llm_pipeline.storage.fingerprint import WEIGHTS_DIGEST_CACHE, hash_file_into, weights_digest
from llm_pipeline.token_rows import DATA_VERSION_FILE
from llm_pipeline.training.config import BOOKKEEPING_FIELDS, TrainingConfig

COMPLETE_MARKER = "checkpoint_complete.json"
RUN_FILE = "run_fingerprint.json"
CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")


def run_fingerprint(config: TrainingConfig) -> str:
    """A hash of what decides a run's trajectory: config (bookkeeping aside), data, base model (for a
    local one, its config and the bytes of its weights)."""
    settings = {name: value for name, value in config.to_dict().items() if name not in BOOKKEEPING_FIELDS}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(dataset_version(Path(config.tokenized_path)).encode())
    base_config = Path(config.base_model) / "config.json"
    if base_config.is_file():  # a local model may be rebuilt or retrained under the same path
        digest.update(base_config.read_bytes())
        # The cache beside output_dir is models/ when the checkpoint asset launched the run, the one
        # base_model fills: each weight file is hashed once for both.
        cache = Path(config.output_dir).parent / WEIGHTS_DIGEST_CACHE
        digest.update(weights_digest(Path(config.base_model), cache).encode())
    return digest.hexdigest()


def dataset_version(path: Path) -> str:
    """The tokenized stage's recorded version, else a hash of the saved dataset's files."""
    stamp = path / DATA_VERSION_FILE
    if stamp.is_file():
        return stamp.read_text(encoding="utf-8").strip()
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        hash_file_into(digest, file)
    return digest.hexdigest()


def checkpoint_step(path: Path) -> int | None:
    match = CHECKPOINT_PATTERN.match(path.name)
    return int(match.group(1)) if match and path.is_dir() else None


def mark_complete(checkpoint_dir: Path, step: int, fingerprint: str) -> None:
    """Write the marker last, through a rename, so it exists only in a finished checkpoint; it names
    the run that wrote it, so a trainer of another run (one left running, say) is never resumed from."""
    sync_to_disk(checkpoint_dir)  # a marker must never outlive, in a crash, the files it vouches for
    staging = checkpoint_dir / f".{COMPLETE_MARKER}.tmp"
    staging.write_text(json.dumps({"step": step, "fingerprint": fingerprint}) + "\n", encoding="utf-8")
    staging.replace(checkpoint_dir / COMPLETE_MARKER)


def sync_to_disk(folder: Path) -> None:
    """fsync every file under `folder`, then the folders themselves."""
    paths = list(folder.rglob("*"))
    for path in paths:
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for directory in [*(path for path in paths if path.is_dir()), folder]:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def complete_checkpoints(output_dir: Path, fingerprint: str | None = None) -> list[Path]:
    """Complete checkpoints in `output_dir`, oldest first; with `fingerprint`, only that run's."""
    if not output_dir.is_dir():
        return []
    found = [(step, path) for path in output_dir.iterdir() if (step := checkpoint_step(path)) is not None]
    marked = [(path, marker_fingerprint(path)) for _, path in sorted(found)]
    return [path for path, run in marked if run and (fingerprint is None or run == fingerprint)]


def marker_fingerprint(checkpoint_dir: Path) -> str | None:
    """The run fingerprint in a checkpoint's completion marker; None when it has no readable marker."""
    try:
        return str(json.loads((checkpoint_dir / COMPLETE_MARKER).read_text(encoding="utf-8")).get("fingerprint", ""))
    except (OSError, ValueError, AttributeError):
        return None


def last_complete_checkpoint(output_dir: Path, fingerprint: str | None = None) -> Path | None:
    complete = complete_checkpoints(output_dir, fingerprint)
    return complete[-1] if complete else None


def prepare_output_dir(output_dir: Path, fingerprint: str, resume: bool) -> Path | None:
    """Get `output_dir` ready for a run; return the checkpoint to resume from, or None.

    Resuming (same fingerprint, `resume` on): unfinished checkpoint folders are deleted (the
    Trainer would otherwise count them when it rotates old checkpoints) and the newest complete
    one is returned. Otherwise every checkpoint folder is deleted and the new fingerprint
    recorded. Idempotent, so each process of a distributed run may call it in turn.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    run_file = output_dir / RUN_FILE
    previous = json.loads(run_file.read_text(encoding="utf-8"))["fingerprint"] if run_file.is_file() else None
    checkpoints = [path for path in output_dir.iterdir() if checkpoint_step(path) is not None]
    if resume and previous == fingerprint:
        remove_unfinished_checkpoints(output_dir, fingerprint)
        return last_complete_checkpoint(output_dir, fingerprint)
    for path in checkpoints:
        shutil.rmtree(path, ignore_errors=True)
    staging = output_dir / f".{RUN_FILE}.tmp"
    staging.write_text(json.dumps({"fingerprint": fingerprint}) + "\n", encoding="utf-8")
    staging.replace(run_file)
    return None


def remove_unfinished_checkpoints(output_dir: Path, fingerprint: str | None = None) -> None:
    """Delete checkpoint folders without a completion marker (half-written); with `fingerprint`,
    also those another run completed."""
    for path in output_dir.iterdir() if output_dir.is_dir() else ():
        if checkpoint_step(path) is not None:
            run = marker_fingerprint(path)
            if not run or (fingerprint is not None and run != fingerprint):
                shutil.rmtree(path, ignore_errors=True)


def finished_run_summary(final_dir: Path, summary_file: str, fingerprint: str) -> dict | None:
    """The final report of a finished run with this fingerprint in `final_dir`, else None.

    The report is written inside the final folder before it is swapped in, so a report found
    there means a whole model; its fingerprint says it came from the same config, data and base
    model, so training again would only reproduce it.
    """
    path = final_dir / summary_file
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and summary.get("run_fingerprint") == fingerprint else None
