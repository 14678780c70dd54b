"""What the reliability tests run in a process of its own: to kill it mid-write, or to run two at once.

    python -m llm_pipeline_tests.support.reliability_worker materialize DATA_DIR RUN_CONFIG_JSON GO_FILE
    python -m llm_pipeline_tests.support.reliability_worker write-records TARGET COUNT
    python -m llm_pipeline_tests.support.reliability_worker cache-parse DATA_DIR RAW_NAME
    python -m llm_pipeline_tests.support.reliability_worker write-dataset TARGET ROWS
    python -m llm_pipeline_tests.support.reliability_worker rewrite TARGET TIMES
    python -m llm_pipeline_tests.support.reliability_worker pool-step POOL TIMES_FILE GO_FILE

The writers print STALLED once they are in the middle of a real stage write and then wait there,
so the test kills them at a known point instead of guessing with a timer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
STALLED = "STALLED"
DATASET_STAGES = ["plaintext", "filtered", "clustered", "splits"]


def _wait_for(go: Path) -> None:
    while not go.exists():
        time.sleep(0.02)


def _stall() -> None:
    print(f"\n{STALLED}", flush=True)  # on a line of its own, whatever a progress bar left
    time.sleep(3600)


def materialize(data_dir: str, run_config: str, go: str) -> int:
    """The dataset stages over DATA_DIR, started when GO exists so that two runs overlap."""
    import dagster as dg

    from llm_pipeline.defs.assets.raw import raw_sources
    from llm_pipeline.defs.checks import asset_checks
    from llm_pipeline.defs.resources import DataDirResource
    from llm_pipeline_tests.support.stage_assets import stage_asset

    stages = [stage_asset(name) for name in ("plaintext", "filtered", "clustered", "splits")]
    checks = [check for check in asset_checks if next(iter(check.check_specs)).asset_key.path[0] in DATASET_STAGES]
    _wait_for(Path(go))
    result = dg.materialize(
        [*raw_sources, *stages, *checks],
        selection=DATASET_STAGES,
        resources={"data_dir": DataDirResource(path=data_dir)},  # all the dataset stages need
        run_config=dg.RunConfig(ops=json.loads(run_config)),
        raise_on_error=False,
    )
    return 0 if result.success else 1


def write_records(target: str, count: str) -> int:
    """`save_records` of COUNT records into TARGET, stalled after the last one is produced."""
    from llm_pipeline.records import Record
    from llm_pipeline.storage.stage_output import save_records

    filler = "compost heaps need air, water and turning " * 8

    def records():
        for index in range(int(count)):
            yield Record.unsupervised(f"note {index}: {filler}", f"big.jsonl line {index}", "jsonl")
        _stall()

    save_records(records(), Path(target))
    return 0


def cache_parse(data_dir: str, name: str) -> int:
    """Parse raw/NAME of DATA_DIR into the plaintext parse cache, stalled after its last record
    is written into the entry's staging folder (the way `plaintext` stores a file's parse)."""
    from llm_pipeline.stages.plaintext.cache import ParsedFileCache
    from llm_pipeline.stages.plaintext.read import read_raw_file
    from llm_pipeline.stages.plaintext.report import IngestReport
    from llm_pipeline.stages.plaintext.settings import PlaintextSettings
    from llm_pipeline.storage.fingerprint import file_digest
    from llm_pipeline.storage.layout import DataLayout

    layout = DataLayout(Path(data_dir))
    path = layout.raw() / name
    fmt = name.split("/")[0]
    cache = ParsedFileCache(layout.cache("plaintext"), PlaintextSettings())
    report = IngestReport()

    def items():
        yield from read_raw_file(path, name, fmt, PlaintextSettings(), report)
        _stall()

    cache.store(cache.key(name, fmt, file_digest(path)), items(), report)
    return 0


def write_dataset(target: str, rows: str) -> int:
    """`save_dataset` of a train/validation DatasetDict into TARGET, stalled after the first
    Arrow batch of the first split is on disk (the way `tokenized` is written)."""
    import datasets
    from datasets.arrow_writer import ArrowWriter

    datasets.disable_progress_bars()
    from llm_pipeline.storage.stage_output import save_dataset

    write_table = ArrowWriter.write_table

    def write_then_stall(self, *args, **kwargs):
        write_table(self, *args, **kwargs)
        _stall()

    ArrowWriter.write_table = write_then_stall
    ids = [[index % 2000] * 64 for index in range(int(rows))]
    split = datasets.Dataset.from_dict({"input_ids": ids, "labels": ids})
    save_dataset(datasets.DatasetDict({"train": split, "validation": split.select(range(10))}), Path(target))
    return 0


def rewrite(target: str, times: str) -> int:
    """Replace the dataset at TARGET TIMES times, with 1, 2, ... TIMES rows, as repeated runs would."""
    import datasets

    from llm_pipeline.storage.stage_output import save_dataset

    datasets.disable_progress_bars()
    for rows in range(1, int(times) + 1):
        save_dataset(datasets.Dataset.from_dict({"x": list(range(rows))}), Path(target))
    return 0


def pool_step(pool: str, times_file: str, go: str) -> int:
    """A run of one step in POOL on the instance in $DAGSTER_HOME, recording when it held the step
    (TIMES_FILE.holding appears as soon as it does)."""
    import dagster as dg

    @dg.asset(pool=pool)
    def pooled_step() -> None:
        start = time.time()
        Path(times_file + ".holding").touch()
        time.sleep(1.5)
        Path(times_file).write_text(json.dumps([start, time.time()]))

    _wait_for(Path(go))
    with dg.DagsterInstance.get() as instance:
        return 0 if dg.materialize([pooled_step], instance=instance).success else 1


COMMANDS = {
    "materialize": materialize,
    "write-records": write_records,
    "cache-parse": cache_parse,
    "write-dataset": write_dataset,
    "rewrite": rewrite,
    "pool-step": pool_step,
}

if __name__ == "__main__":
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
