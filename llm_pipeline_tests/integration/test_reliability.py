"""Reliability: bad input, a dump that tries to escape, writers killed mid-write, two runs at once,
the gpu pool, and paths that try to leave the data directory.

Marked `reliability` (part of the default run, CI included; `-m "not reliability"` skips it).
A fault of the pipeline that a test here found is an `xfail(strict=True)` naming the code and the
input; fixing the code turns it into a failure until the mark is removed.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import datasets
import pytest
import yaml

from llm_pipeline.definitions import defs, pipeline_assets
from llm_pipeline.defs.assets.raw import raw_sources
from llm_pipeline.defs.checks import asset_checks
from llm_pipeline.defs.resources import DataDirResource
from llm_pipeline.records import Record
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings
from llm_pipeline.stages.splits.assign import assign_split
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.raw_files import printable_name
from llm_pipeline.storage.stage_output import iter_records, load_records, save_dataset
from llm_pipeline_tests.support import REPO_ROOT
from llm_pipeline_tests.support.bad_inputs import BAD_INPUTS, HUGE_LINE_BYTES, NESTING_DEPTH, BadInput
from llm_pipeline_tests.support.reliability_worker import DATASET_STAGES, STALLED
from llm_pipeline_tests.support.tiny import SENTENCES

pytestmark = pytest.mark.reliability

REPO = REPO_ROOT
SENTINEL_TEXT = "sentinel: a file outside the data directory that no run may touch"
# Names the escaping dump aims at relative to wherever it would be run.
RELATIVE_TARGETS = ("llm_pipeline_escape_attached.db", "llm_pipeline_escape_vacuum.db", "llm_pipeline_escape_shell.txt")


def worker(*args: str, env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "llm_pipeline_tests.support.reliability_worker", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def materialize(data_dir: Path, stages: list[str], ops: dict | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*raw_sources, *pipeline_assets, *asset_checks],
        selection=stages,
        resources={**defs.resources, "data_dir": DataDirResource(path=str(data_dir))},
        run_config=dg.RunConfig(ops=ops or {}),
        raise_on_error=False,
    )


def rows(path: Path) -> list[dict]:
    return list(datasets.load_from_disk(str(path))) if path.exists() else []


def from_file(items: list[dict], name: str) -> list[dict]:
    """Records or rejections whose source is this raw file (`csv/a.csv`, `csv/a.csv row 3`, ...)."""
    return [item for item in items if item["source"] == name or item["source"].startswith(name + " ")]


def write_good_records(raw: Path) -> None:
    """Ordinary records beside the bad ones, so that the run has a train and a validation side."""
    (raw / "jsonl").mkdir(parents=True, exist_ok=True)
    (raw / "jsonl" / "good.jsonl").write_text("".join(json.dumps({"text": sentence}) + "\n" for sentence in SENTENCES))


def escaping_dump(outside: Path) -> str:
    """A dump whose statements would read, write or run things outside the data directory if a
    SQL engine executed them."""
    attached, vacuum, shell = RELATIVE_TARGETS
    return f"""CREATE TABLE notes (id int, body text);
ATTACH DATABASE '{outside}/attached.db' AS evil;
ATTACH DATABASE '{attached}' AS evil_here;
CREATE TABLE evil.stolen (body text);
SELECT load_extension('{outside}/evil.so');
SELECT writefile('{outside}/written.txt', 'written');
VACUUM INTO '{outside}/vacuumed.db';
VACUUM INTO '{vacuum}';
PRAGMA journal_mode = WAL;
PRAGMA temp_store_directory = '{outside}';
.shell touch {outside}/shell.txt {shell}
\\! touch {outside}/psql.txt
COPY notes FROM PROGRAM 'touch {outside}/program.txt';
COPY notes TO '{outside}/copied.txt';
INSERT INTO notes VALUES (1, load_extension('{outside}/evil.so'));
INSERT INTO notes SELECT 2, readfile('{outside}/sentinel.txt');
INSERT INTO notes VALUES (3, 'A normal row: compost heaps need air, water and brown leaves.');
"""


def file_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.stat().st_size, path.stat().st_mtime_ns) for path in folder.rglob("*") if path.is_file()}


@dataclass
class CorpusRun:
    data: Path
    outside: Path
    outside_before: dict
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> CorpusRun:
    """The dataset stages over every bad input at once (but the slow ones, tested on their own),
    plus the escaping dump and some good records, in one run."""
    root = tmp_path_factory.mktemp("corpus")
    data, outside = root / "data", root / "outside"
    outside.mkdir()
    (outside / "sentinel.txt").write_text(SENTINEL_TEXT)
    for bad in BAD_INPUTS:
        if not bad.on_its_own:
            bad.write(data / "raw")
    write_good_records(data / "raw")
    (data / "raw" / "sql" / "escape.sql").write_text(escaping_dump(outside))
    outside_before = file_state(outside)
    return CorpusRun(data, outside, outside_before, materialize(data, DATASET_STAGES))


def test_the_run_over_bad_input_succeeds_and_every_count_balances(corpus):
    assert len({bad.kind for bad in BAD_INPUTS}) >= 20
    assert corpus.result.success
    checks = {evaluation.check_name: evaluation for evaluation in corpus.result.get_asset_check_evaluations()}
    # Counted a second way from the raw files: rows a parser never handed out would show here.
    accounting = checks["plaintext_accounts_for_raw_files"]
    assert accounting.passed, accounting.metadata["mismatches"].value
    assert accounting.metadata["files_counted"].value >= 25
    for stage in DATASET_STAGES:
        assert checks[f"{stage}_counts_balance"].passed, checks[f"{stage}_counts_balance"].metadata
        metadata = {
            key: value.value
            for event in corpus.result.get_asset_materialization_events()
            if event.asset_key.path == [stage]
            for key, value in event.materialization.metadata.items()
        }
        assert (
            metadata["records_in"]
            == metadata["records_kept"] + metadata["records_dropped"] + metadata["records_rejected"]
        )
    raw_names = {  # every entry, links and FIFOs too, by the printable name sources use
        printable_name(path.relative_to(corpus.data / "raw").as_posix()) for path in (corpus.data / "raw").rglob("*")
    }
    for stage in ("plaintext", "filtered"):
        for rejection in rows(corpus.data / "rejected" / stage):
            assert rejection["reason"] and rejection["source"], rejection
            assert rejection["source"].split(" ")[0] in raw_names, rejection["source"]


def _expectation_params() -> list:
    return [
        pytest.param(bad, id=bad.path, marks=[pytest.mark.xfail(strict=True, reason=bad.bug)] if bad.bug else [])
        for bad in BAD_INPUTS
        if not bad.on_its_own
    ]


@pytest.mark.parametrize("bad", _expectation_params())
def test_each_bad_input_is_kept_or_quarantined_with_a_reason(corpus, bad: BadInput):
    every_record = rows(corpus.data / "plaintext")
    records = from_file(every_record, bad.path)
    rejections = from_file(rows(corpus.data / "rejected" / "plaintext"), bad.path)
    if bad.never_keeps:  # in no record at all: a link's target must not turn up under another name
        assert not any(bad.never_keeps in Record.from_dict(record).content for record in every_record)
    if bad.ignored:
        assert not records and not rejections
        (event,) = [e for e in corpus.result.get_asset_materialization_events() if e.asset_key.path == ["plaintext"]]
        assert f"| `{bad.path}` |" in event.materialization.metadata["raw_entries_ignored"].value
        return
    assert records or rejections, f"{bad.kind}: no record and no rejection"
    texts = [Record.from_dict(record).content for record in records]
    if bad.keeps:
        assert any(bad.keeps in text for text in texts), f"{bad.kind}: {[text[:80] for text in texts]}"
    if bad.reasons:
        assert any(rejection["reason"].startswith(bad.reasons) for rejection in rejections), rejections


def test_a_rerun_over_the_same_raw_files_changes_no_output(corpus):
    # Caches keyed by record id must hand each record its own verdicts and tokens back.
    folders = [*DATASET_STAGES, *(f"rejected/{stage}" for stage in DATASET_STAGES)]

    def contents(folder: str):
        saved = datasets.load_from_disk(str(corpus.data / folder)) if (corpus.data / folder).exists() else []
        return {name: split.to_list() for name, split in saved.items()} if isinstance(saved, dict) else list(saved)

    before = {folder: contents(folder) for folder in folders}
    assert before["splits"]["train"], "nothing to compare"
    again = materialize(corpus.data, DATASET_STAGES)
    assert again.success
    for folder in folders:
        assert contents(folder) == before[folder], folder


def test_a_dump_that_tries_to_escape_changes_nothing_outside_the_run(corpus):
    # Nothing was created, changed or removed outside the data directory, here or where relative
    # paths would land (the working directory, the data directory).
    assert file_state(corpus.outside) == corpus.outside_before
    assert (corpus.outside / "sentinel.txt").read_text() == SENTINEL_TEXT
    for name in RELATIVE_TARGETS:
        assert not (REPO / name).exists() and not (Path.cwd() / name).exists() and not list(corpus.data.rglob(name))
    # The stage folders, their write locks, and the file a corpus link inside the data directory points at.
    expected = {"raw", "rejected", "cache", ".locks", "shared-notes.jsonl", *DATASET_STAGES}
    assert {path.name for path in corpus.data.iterdir()} == expected

    # The dump is read, never executed: statements that would reach the host (ATTACH, load_extension,
    # writefile, VACUUM INTO, PRAGMA temp_store_directory, COPY TO) are reported as unsafe; an INSERT
    # whose values are function calls, or that selects, is quarantined as unreadable, with its line.
    rejections = {
        row["source"]: row for row in from_file(rows(corpus.data / "rejected" / "plaintext"), "sql/escape.sql")
    }
    reasons = {source.rsplit("(", 1)[-1]: row["reason"] for source, row in rejections.items()}
    unsafe = {"line 2)", "line 3)", "line 5)", "line 6)", "line 7)", "line 8)", "line 10)", "line 14)"}
    assert reasons == {
        **{line: "unsafe_sql_statement" for line in unsafe},
        "line 15, 1 row)": "bad_sql_statement",  # a rejected INSERT says how many rows it held
        "line 16)": "bad_sql_statement",  # INSERT ... SELECT: no literal rows
    }
    records = from_file(rows(corpus.data / "plaintext"), "sql/escape.sql")
    assert [record["text"] for record in records] == ["A normal row: compost heaps need air, water and brown leaves."]
    assert not any(SENTINEL_TEXT in (record["text"] or "") for record in rows(corpus.data / "plaintext"))


class deadline:
    """Raise TimeoutError in this thread if the block runs longer than `seconds` (SIGALRM)."""

    def __init__(self, seconds: int, what: str) -> None:
        self.seconds, self.what = seconds, what

    def _expire(self, signum, frame):
        raise TimeoutError(f"{self.what} still running after {self.seconds} s")

    def __enter__(self):
        self.previous = signal.signal(signal.SIGALRM, self._expire)
        signal.alarm(self.seconds)

    def __exit__(self, *exc_info):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.previous)


NESTED = next(bad for bad in BAD_INPUTS if bad.path == "html/nested.html")
HUGE = next(bad for bad in BAD_INPUTS if bad.path == "jsonl/huge_line.jsonl")


def test_deeply_nested_markup_is_parsed_within_seconds(tmp_path):
    path = NESTED.write(tmp_path / "raw")
    with deadline(10, f"parsing {NESTING_DEPTH:,} nested divs"):  # measured: 1.6 s without the quadratic step
        items = list(read_raw_file(path, NESTED.path, "html", PlaintextSettings(), IngestReport()))
    assert any(isinstance(item, Record) and NESTED.keeps in item.content for item in items)


def test_a_50_mb_line_is_read_whole_then_dropped_for_its_length(tmp_path):
    data = tmp_path / "data"
    HUGE.write(data / "raw")
    write_good_records(data / "raw")
    with deadline(30, "plaintext and filtered over a 50 MB line"):  # measured: 3 s
        result = materialize(data, ["plaintext", "filtered"])
    assert result.success
    (huge,) = from_file(rows(data / "plaintext"), HUGE.path)
    assert len(huge["text"]) > HUGE_LINE_BYTES * 0.99  # read whole, not cut
    dropped = {row["record_id"]: row for row in rows(data / "rejected" / "filtered")}
    assert huge["id"] in dropped and dropped[huge["id"]]["reason"]
    assert huge["id"] not in {row["id"] for row in rows(data / "filtered")}


# --- killed writers --------------------------------------------------------------------------


def _pump(stream, lines: queue.Queue) -> None:
    """Lines of a worker's output into a queue (None at its end), so the test can wait with a timeout."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def kill_when_stalled(process: subprocess.Popen, timeout: float = 120) -> None:
    """SIGKILL the worker once it reports that it is in the middle of its write."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    output, deadline_at = [], time.monotonic() + timeout
    while not output or output[-1].strip() != STALLED:
        try:
            line = lines.get(timeout=max(0.0, deadline_at - time.monotonic()))
        except queue.Empty:
            process.kill()
            pytest.fail(f"the writer did not reach the middle of its write in {timeout} s: {''.join(output)[-2000:]}")
        if line is None:
            pytest.fail(f"the writer ended before stalling (exit {process.wait()}): {''.join(output)[-2000:]}")
        output.append(line)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def leftovers(folder: Path, stage: str) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(f".{stage}."))


@dataclass
class KilledWrite:
    data: Path
    before: list[str]  # ids of the complete output the killed writer was replacing
    left_behind: list[str]  # staging folders the killed writer left


@pytest.fixture(scope="module")
def killed_plaintext_write(tmp_path_factory) -> KilledWrite:
    data = tmp_path_factory.mktemp("killed") / "data"
    write_good_records(data / "raw")
    assert materialize(data, ["plaintext"]).success
    before = [record.id for record in iter_records(load_records(data / "plaintext"))]
    kill_when_stalled(worker("write-records", str(data / "plaintext"), "20000"))
    return KilledWrite(data, before, leftovers(data, "plaintext"))


def test_a_writer_killed_mid_write_leaves_the_previous_stage_whole(killed_plaintext_write):
    killed = killed_plaintext_write
    assert killed.left_behind, "the kill came before the write had started"
    assert [record.id for record in iter_records(load_records(killed.data / "plaintext"))] == killed.before
    result = materialize(killed.data, ["plaintext", "filtered"])  # the next run reads and rewrites it
    assert result.success
    assert [record.id for record in iter_records(load_records(killed.data / "plaintext"))] == killed.before


def test_a_killed_writers_leftovers_are_removed_by_the_next_write(killed_plaintext_write):
    assert materialize(killed_plaintext_write.data, ["plaintext"]).success
    assert leftovers(killed_plaintext_write.data, "plaintext") == []


def test_a_parse_killed_mid_cache_entry_is_never_read_back(tmp_path):
    data = tmp_path / "data"
    write_good_records(data / "raw")
    name = next(
        path.relative_to(data / "raw").as_posix() for path in sorted((data / "raw").rglob("*")) if path.is_file()
    )
    kill_when_stalled(worker("cache-parse", str(data), name))
    cache = data / "cache" / "plaintext"
    assert [path for path in cache.glob("*/.*")], "the kill came before the entry's staging folder existed"
    assert not [path for path in cache.glob("*/*") if not path.name.startswith(".")], "a half entry is visible"

    result = materialize(data, ["plaintext"])
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert name in metadata["files_parsed_list"].value  # parsed again, not read from the half entry
    assert not list(cache.glob("*/.*")), "the killed writer's staging folder was not swept"
    fresh = tmp_path / "fresh"
    write_good_records(fresh / "raw")
    assert materialize(fresh, ["plaintext"]).success
    assert list(iter_records(load_records(data / "plaintext"))) == list(iter_records(load_records(fresh / "plaintext")))


def test_a_tokenized_write_killed_mid_save_keeps_the_previous_splits(tmp_path):
    target = tmp_path / "tokenized"
    previous = datasets.Dataset.from_dict({"input_ids": [[1, 2, 3]] * 5, "labels": [[-100, 2, 3]] * 5})
    save_dataset(datasets.DatasetDict({"train": previous, "validation": previous.select(range(2))}), target)
    kill_when_stalled(worker("write-dataset", str(target), "200000"))
    assert any((tmp_path / name).is_dir() for name in leftovers(tmp_path, "tokenized"))
    survived = datasets.load_from_disk(str(target))
    assert {name: len(split) for name, split in survived.items()} == {"train": 5, "validation": 2}
    assert survived["train"][0]["labels"] == [-100, 2, 3]
    save_dataset(datasets.DatasetDict({"train": previous.select(range(3)), "validation": previous}), target)
    assert len(datasets.load_from_disk(str(target))["train"]) == 3


# --- runs at once ----------------------------------------------------------------------------


def test_two_runs_at_once_each_leave_whole_outputs(tmp_path):
    data = tmp_path / "data"
    write_good_records(data / "raw")
    go = tmp_path / "go"
    ratios = (0.2, 0.5)  # two configs, so each stage output tells which run wrote it
    runs = [
        worker("materialize", str(data), json.dumps({"splits": {"config": {"validation_ratio": ratio}}}), str(go))
        for ratio in ratios
    ]
    time.sleep(0.5)
    go.touch()
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    # A run may fail: its counts check can read the stage the other run (another config) has just
    # replaced, and stops it rather than train on a mix. What the runs leave behind must be whole.
    assert 0 in [run.returncode for run in runs], "\n".join(output[-2000:] for output in outputs)

    splits = datasets.load_from_disk(str(data / "splits"))
    sides = {name: list(iter_records(split)) for name, split in splits.items()}
    writers = [
        ratio
        for ratio in ratios
        if all(assign_split(record, ratio) == name for name, records in sides.items() for record in records)
    ]
    assert len(writers) == 1, "the splits folder mixes the two runs' outputs"
    for name, jsonl in (("train", "train.jsonl"), ("validation", "val.jsonl")):  # written in the same atomic step
        assert (data / "splits" / jsonl).read_text().count("\n") == len(sides[name])
    for stage in ("plaintext", "filtered", "clustered"):
        assert len(load_records(data / stage)) > 0  # a whole dataset: its state and every shard are there
    # No work folder is left behind; .locks holds the stages' write locks (storage.locks).
    assert not [path.name for path in data.iterdir() if path.name.startswith(".") and path.name != ".locks"]


def test_a_stage_is_never_missing_while_another_process_replaces_it(tmp_path):
    """A run reading a stage while another rewrites it finds the old output or the new one, never
    none. (With two renames there was a gap: 2,980 of 285,840 polls found the folder missing, and
    a concurrent dataset run failed its splits_counts_balance check on it.)"""
    target = tmp_path / "splits"
    save_dataset(datasets.Dataset.from_dict({"x": [0]}), target)
    writer = worker("rewrite", str(target), "100")
    polls = missing = 0
    while writer.poll() is None:
        polls += 1
        missing += not target.exists()
    assert writer.returncode == 0, writer.stdout.read()[-2000:]
    assert polls > 1000 and missing == 0, f"{missing} of {polls} polls found the stage missing"
    assert len(datasets.load_from_disk(str(target))) == 100
    assert leftovers(tmp_path, "splits") == []


def test_the_gpu_pool_runs_one_training_step_at_a_time(tmp_path, monkeypatch):
    """Two runs on an instance configured by this repository's dagster.yaml, each with one step in
    the checkpoint's pool (the step sleeps instead of training: the pool is what is tested). The
    second starts while the first holds the pool, and must wait for it."""
    pool = defs.resolve_assets_def("checkpoint").op.pool
    assert yaml.safe_load((REPO / "dagster.yaml").read_text())["concurrency"]["pools"]["default_limit"] == 1
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get():  # create the storage once: two processes doing it at once collide
        pass
    go = [tmp_path / "go_first", tmp_path / "go_second"]
    times = [tmp_path / "first.json", tmp_path / "second.json"]
    runs = [
        worker("pool-step", pool, str(path), str(signal_file)) for path, signal_file in zip(times, go, strict=False)
    ]
    go[0].touch()
    holding = Path(f"{times[0]}.holding")
    deadline_at = time.monotonic() + 120
    while not holding.exists() and runs[0].poll() is None and time.monotonic() < deadline_at:
        time.sleep(0.05)
    assert holding.exists(), "the first run never reached its step"
    go[1].touch()
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n".join(output[-2000:] for output in outputs)
    (_, first_end), (second_start, _) = (json.loads(path.read_text()) for path in times)
    assert first_end <= second_start, "two steps of the gpu pool ran at the same time"
    assert "blocked by limit for pool" in outputs[1]


# --- paths -------------------------------------------------------------------------------------

# Config fields that name a path or a location, and why none of them can write outside the data
# directory. A new one fails the test below until it is listed here with its reason.
PATH_FIELDS = {
    ("base_model", "model_name_or_path"): "read only: a model id or a local model directory, outside by design",
    ("plaintext", "databases.url"): "read only: a database the user names, opened read-only (sources/database.py)",
    ("plaintext", "databases.url_env"): "the name of an environment variable holding such a URL",
    ("evaluation", "eval_file"): "held inside the data directory by DataLayout.inside (stages/evaluation/eval_file.py)",
}
PATH_WORDS = ("path", "dir", "file", "folder", "url")


def config_field_names(config_type, prefix: str = ""):
    """Every field of a Dagster config type, nested ones as `outer.inner`."""
    for name, field in (getattr(config_type, "fields", None) or {}).items():
        yield prefix + name
        yield from config_field_names(field.config_type, f"{prefix}{name}.")
    for attribute in ("inner_type", "value_type"):  # lists, optionals, maps
        if (inner := getattr(config_type, attribute, None)) is not None:
            yield from config_field_names(inner, prefix)


def test_a_configured_path_cannot_leave_the_data_directory(tmp_path):
    layout = DataLayout(tmp_path / "data")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link").symlink_to(tmp_path)
    for escaping in ("../elsewhere", "/etc/passwd", "models/../../elsewhere", "link/elsewhere"):
        with pytest.raises(ValueError, match="leaves the data directory"):
            layout.inside(escaping)
    assert layout.inside("models/adapter") == (tmp_path / "data" / "models" / "adapter").resolve()

    # Every config field that names a path is known, with the reason it cannot escape.
    named_paths = set()
    for assets_def in defs.get_repository_def().asset_graph.assets_defs:
        if not assets_def.is_executable or len(assets_def.keys) != 1:  # checks have no key of their own
            continue
        for name in config_field_names(assets_def.op.config_schema.config_type):
            if any(word in name.rsplit(".", 1)[-1] for word in PATH_WORDS):
                named_paths.add((assets_def.key.to_user_string(), name))
    assert named_paths <= set(PATH_FIELDS), (
        f"config fields naming a path, not checked against the data directory: {named_paths - set(PATH_FIELDS)}"
    )
