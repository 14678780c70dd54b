"""Reading and writing stage outputs as Arrow datasets, atomically.

A stage writes into a temporary sibling folder and renames it into place, so a crash in the
middle of a write never leaves a half-written stage where the next stage would read it.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import datasets

from llm_pipeline.document import RECORD_FIELDS, REJECTION_FIELDS, Record, Rejection

RECORD_FEATURES = datasets.Features({name: datasets.Value("string") for name in RECORD_FIELDS})
REJECTION_FEATURES = datasets.Features({name: datasets.Value("string") for name in REJECTION_FIELDS})


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces `target` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        if target.exists():
            target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def save_dataset(dataset: datasets.Dataset | datasets.DatasetDict, target: Path) -> None:
    # An empty dataset saved with the default shard count cannot be loaded back.
    empty = isinstance(dataset, datasets.Dataset) and len(dataset) == 0
    with atomic_dir(target) as staging:
        dataset.save_to_disk(str(staging), num_shards=1 if empty else None)


def save_rows(rows: Iterable[dict], features: datasets.Features, target: Path) -> int:
    """Stream rows into an Arrow dataset at `target` without holding them all in memory."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:  # from_generator cannot build an empty dataset
        save_dataset(datasets.Dataset.from_dict({name: [] for name in features}, features=features), target)
        return 0
    counter = {"rows": 0}

    def generate():
        for row in itertools.chain([first], rows):
            counter["rows"] += 1
            yield row

    datasets.disable_progress_bars()  # per-shard bars only clutter the run logs
    with atomic_dir(target) as staging:
        cache = staging.parent / f".{target.name}.cache-{uuid.uuid4().hex[:8]}"
        try:
            dataset = datasets.Dataset.from_generator(
                generate, features=features, cache_dir=str(cache), fingerprint=uuid.uuid4().hex
            )
            dataset.save_to_disk(str(staging))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    return counter["rows"]


def save_records(records: Iterable[Record], target: Path) -> int:
    return save_rows((record.to_dict() for record in records), RECORD_FEATURES, target)


def save_rejections(rejections: Iterable[Rejection], target: Path) -> int:
    """Write a stage's quarantine (possibly empty) and return how many entries it holds."""
    return save_rows((rejection.to_dict() for rejection in rejections), REJECTION_FEATURES, target)


def load_records(path: Path) -> datasets.Dataset:
    if not path.exists():
        raise FileNotFoundError(f"stage output {path} does not exist: materialize the upstream asset first")
    return datasets.load_from_disk(str(path))


def iter_records(dataset: datasets.Dataset, batch_size: int = 1000) -> Iterator[Record]:
    for batch in dataset.iter(batch_size=batch_size):
        for index in range(len(batch["id"])):
            yield Record.from_dict({name: batch[name][index] for name in RECORD_FIELDS})
