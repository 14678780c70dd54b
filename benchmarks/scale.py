"""How the dataset job scales with the corpus: wall and CPU seconds, throughput and peak memory per stage.

    python benchmarks/scale.py --data ../shared/data [--sizes 10,40,160] [--huge] [--keep DIR]
                               [--workers N] [--set filtered.workers=2 ...] [--tiny-default]

For each size (MiB of JSONL; 1 GiB and more only with `--huge`) a fresh data directory gets a
corpus of unique instruction records under raw/jsonl/, in shards of about 4 MiB. The records
are made of real sentences from the public sample data under `--data` (the ground-truth text of
the saved HTML pages, the Alpaca and identity records, the ShareGPT conversations, the Netflix
descriptions), cut into sentences, kept when English (py3langid) and free of the phrase
filter's artefacts; each record is an instruction of 1-2 sentences and an output of 3-8,
drawn with a fixed seed, so that records are unique and read like real text.

Each size is run the way a user runs it: `llm-pipeline run --select <the assets of the
prepare_dataset job>` in its own process, with a project file (data_dir, base model, any
`--set`/`--workers` settings) named by $LLM_PIPELINE_CONFIG and a fresh $DAGSTER_HOME holding
the repository's dagster.yaml. That is `dg.execute_job` of a reconstructable job on a real
SQLite instance: Dagster's multiprocess executor, each step (asset or check) in a process of
its own, at most one per core at a time. The base model is a fixed tiny Llama built once, as
benchmarks/incremental.py configures it (`--tiny-default` leaves it unset, so the base_model
step trains a tokenizer on the training split of each size).

Printed per size: the asset checks' summary line, the kept fraction of the filtered stage
(with the drops by reason), then one row per step: wall seconds as Dagster records the step,
the life of its process (start-up and imports included), CPU seconds of its process tree, the
part of them from the step's start on (the step body, without start-up and imports), raw
corpus MiB per body CPU second (MiB/s per core) for the per-record stages, and the peak RSS of
the step process; then each stage with its checks summed; the job's wall (the CLI process,
imports included, and the run as Dagster records it), the CPU seconds of every process
(getrusage of the children), the peak RSS of the largest process (ru_maxrss of the children)
and the largest sum of RSS over the processes alive at one instant. Last, the speedup line:
with `--workers N` and a `workers` setting in the per-record stages, each size runs with 1 and
N workers; until such a setting exists it reads "workers setting not available".

CPU and memory are sampled from /proc every 0.1 s over every descendant of the CLI process:
a step's CPU is the largest sum over the samples of utime + stime + cutime + cstime of the
processes of its tree that are alive (a reaped child's time is in its parent's cutime), its
peak RSS the process's VmHWM. Each step process is matched to its step by the pid of its
STEP_WORKER_STARTED event. A step shorter than a sample may be missed, and a step's last 0.1 s
is not counted. Set OMP_NUM_THREADS (done here); on a shared machine the CPU seconds are the
figure that other load disturbs least, and the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
HUGE_MIB = 1024
SHARD_BYTES = 4 * MIB
# Stages whose work is per record (the rest are global: k-means, the split, the model reference).
PER_RECORD_STAGES = ("plaintext", "filtered", "tokenized")
# The names a parallelism setting may have in a stage's Settings, tried in order.
WORKER_SETTINGS = ("workers",)
SAMPLE_SECONDS = 0.1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z\"'(])")
_TAG = re.compile(r"<[^>]+>")
_BLOCK_TAG = re.compile(r"</?(p|div|h[1-6]|li|br|tr|td|section|article|blockquote|figcaption|pre)\b[^>]*>", re.I)


# ---------------------------------------------------------------------------------------------
# The corpus


def sample_texts(data: Path) -> Iterator[str]:
    """Every piece of running text in the public sample data (paragraphs, answers, descriptions)."""
    for page in sorted((data / "html").glob("*/expected.html")):
        markup = _BLOCK_TAG.sub("\n", page.read_text(encoding="utf-8", errors="replace"))
        yield from html.unescape(_TAG.sub(" ", markup)).split("\n")
    for path in sorted((data / "instruct").glob("*.json")) + sorted((data / "chat").glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            if not isinstance(item, dict):
                continue
            for key in ("instruction", "input", "output"):
                if isinstance(item.get(key), str):
                    yield item[key]
            for turn in item.get("conversations") or item.get("messages") or []:
                if isinstance(turn, dict):
                    yield str(turn.get("value") or turn.get("content") or "")
    import csv

    with (data / "csv" / "netflix_titles.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield row.get("description") or ""


def sentence_pool(data: Path) -> list[str]:
    """Distinct English sentences of 5 to 60 words, none holding a phrase the filter drops."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from llm_pipeline.stages.filtered.filters.phrases import PhraseMatcher, phrases_for

    artefacts = PhraseMatcher(phrases_for("aggressive"))
    seen: dict[str, None] = {}
    for text in sample_texts(data):
        for paragraph in text.split("\n"):
            for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
                words = sentence.split()
                if not 5 <= len(words) <= 60 or sentence[-1] not in ".!?" or "{{" in sentence:
                    continue
                if re.search(r"\bAI\b|OpenAI|language model", sentence) or artefacts.find(sentence):
                    continue
                seen.setdefault(sentence, None)
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return [sentence for sentence in seen if identifier.classify(sentence)[0] == "en"]


def write_corpus(pool: list[str], folder: Path, size_mib: int, seed: int) -> tuple[int, int]:
    """Write unique records totalling `size_mib` MiB of JSONL in shards; return (records, bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{size_mib}")
    target, written, records, shard = size_mib * MIB, 0, 0, 0
    seen: set[bytes] = set()
    lines: list[str] = []
    shard_bytes = 0

    def flush() -> None:
        nonlocal shard, lines, shard_bytes
        if lines:
            (folder / f"records_{shard:04d}.jsonl").write_text("".join(lines), encoding="utf-8")
            shard, lines, shard_bytes = shard + 1, [], 0

    while written < target:
        instruction = " ".join(rng.sample(pool, rng.randint(1, 2)))
        sentences = rng.sample(pool, rng.randint(3, 8))
        cut = rng.randint(1, len(sentences))  # two paragraphs, now and then one
        output = " ".join(sentences[:cut]) + ("\n\n" + " ".join(sentences[cut:]) if cut < len(sentences) else "")
        key = hashlib.blake2b(f"{instruction}\x00{output}".encode(), digest_size=16).digest()
        if key in seen:
            continue
        seen.add(key)
        line = json.dumps({"instruction": instruction, "input": "", "output": output}, ensure_ascii=False) + "\n"
        size = len(line.encode("utf-8"))
        lines.append(line)
        written, shard_bytes, records = written + size, shard_bytes + size, records + 1
        if shard_bytes >= SHARD_BYTES:
            flush()
    flush()
    return records, written


def build_base_model(pool: list[str], target: Path) -> None:
    """A fixed tiny Llama and tokenizer, as benchmarks/incremental.py builds it (one per benchmark)."""
    from llm_pipeline.stages.base_model.tiny import build_tiny_base_model

    build_tiny_base_model(pool, target, vocab_size=2048, hidden_size=64, num_layers=2, num_heads=4, seed=0)


# ---------------------------------------------------------------------------------------------
# Settings


def parse_overrides(pairs: Iterable[str]) -> dict[str, dict]:
    """`stage.key.subkey=value` (value read as YAML) -> {stage: {key: {subkey: value}}}."""
    sections: dict[str, dict] = {}
    for pair in pairs:
        path, _, value = pair.partition("=")
        stage, *keys = path.split(".")
        if not keys or not _:
            raise SystemExit(f"--set {pair!r}: expected stage.key=value")
        node = sections.setdefault(stage, {})
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = yaml.safe_load(value)
    return sections


def worker_fields() -> dict[str, str]:
    """{stage: the name of its workers setting} for the per-record stages that have one."""
    import dataclasses

    from llm_pipeline.defs.project import STAGE_SETTINGS

    found = {}
    for stage in PER_RECORD_STAGES:
        names = {item.name for item in dataclasses.fields(STAGE_SETTINGS[stage])}
        for name in WORKER_SETTINGS:
            if name in names:
                found[stage] = name
                break
    return found


def with_workers(sections: dict[str, dict], fields: dict[str, str], workers: int) -> dict[str, dict]:
    merged = {stage: dict(values) for stage, values in sections.items()}
    for stage, name in fields.items():
        merged.setdefault(stage, {})[name] = workers
    return merged


def dataset_assets() -> list[str]:
    """The assets the prepare_dataset job materializes, in graph order."""
    from llm_pipeline.definitions import defs
    from llm_pipeline.defs.jobs import prepare_dataset_job

    graph = defs.resolve_asset_graph()
    keys = prepare_dataset_job.selection.resolve(graph)
    return [
        key.to_user_string() for key in graph.toposorted_asset_keys if key in keys and graph.get(key).is_materializable
    ]


# ---------------------------------------------------------------------------------------------
# Sampling the processes


@dataclass
class ProcessSample:
    ppid: int
    cpu_ticks: int  # utime + stime + cutime + cstime
    rss_kib: int
    hwm_kib: int


@dataclass
class TreeSampler:
    """Samples every descendant of `root` from /proc until stopped."""

    root: int
    peak_hwm_kib: dict[int, int] = field(default_factory=dict)
    parents: dict[int, int] = field(default_factory=dict)
    tree_cpu_ticks: dict[int, int] = field(default_factory=dict)  # pid -> largest CPU of its live tree
    first_seen: dict[int, float] = field(default_factory=dict)
    last_seen: dict[int, float] = field(default_factory=dict)
    history: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # pid -> (unix time, tree CPU ticks)
    peak_total_rss_kib: int = 0
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def ticks_since(self, pid: int, start: float) -> int | None:
        """CPU ticks of `pid`'s tree from the last sample before `start` (unix time) to its last sample."""
        history = self.history.get(pid)
        if not history:
            return None
        before = [ticks for at, ticks in history if at <= start]
        return history[-1][1] - (before[-1] if before else 0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        table: dict[int, ProcessSample] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (sample := _read_process(int(entry.name))) is not None:
                table[int(entry.name)] = sample
        children: dict[int, list[int]] = {}
        for pid, sample in table.items():
            children.setdefault(sample.ppid, []).append(pid)
        live = []
        stack = list(children.get(self.root, []))
        while stack:
            pid = stack.pop()
            live.append(pid)
            stack.extend(children.get(pid, []))
        if self.root in table:
            live.append(self.root)

        def tree_ticks(pid: int) -> int:
            return table[pid].cpu_ticks + sum(tree_ticks(child) for child in children.get(pid, []))

        now = time.time()  # the clock of Dagster's step records
        for pid in live:
            sample = table[pid]
            self.first_seen.setdefault(pid, now)
            self.last_seen[pid] = now
            self.parents[pid] = sample.ppid
            self.peak_hwm_kib[pid] = max(self.peak_hwm_kib.get(pid, 0), sample.hwm_kib)
            ticks = tree_ticks(pid)
            self.tree_cpu_ticks[pid] = max(self.tree_cpu_ticks.get(pid, 0), ticks)
            self.history.setdefault(pid, []).append((now, self.tree_cpu_ticks[pid]))
        self.peak_total_rss_kib = max(self.peak_total_rss_kib, sum(table[pid].rss_kib for pid in live))
        self.samples += 1


def _read_process(pid: int) -> ProcessSample | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode()
        with open(f"/proc/{pid}/status", "rb") as handle:
            status = handle.read().decode()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    hwm = re.search(r"VmHWM:\s+(\d+)", status)
    rss = re.search(r"VmRSS:\s+(\d+)", status)
    return ProcessSample(
        ppid=int(fields[1]),
        cpu_ticks=sum(int(value) for value in fields[11:15]),
        rss_kib=int(rss.group(1)) if rss else 0,
        hwm_kib=int(hwm.group(1)) if hwm else 0,
    )


# ---------------------------------------------------------------------------------------------
# One run


@dataclass
class StepFigures:
    step: str
    stage: str
    wall: float
    process_wall: float | None  # the step process's life, start-up included
    cpu: float | None
    body_cpu: float | None  # from the step's start as Dagster records it: without process start-up and imports
    peak_rss_mib: float | None


@dataclass
class RunFigures:
    size_mib: float
    records: int
    success: bool
    steps: list[StepFigures]
    cli_wall: float
    run_wall: float
    children_cpu: float
    largest_rss_mib: float
    peak_total_rss_mib: float
    kept: int | None
    records_in: int | None
    dropped_by_reason: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    log: Path


def run_dataset_job(work: Path, assets: list[str], sections: dict[str, dict], corpus: tuple[int, int]) -> RunFigures:
    """`llm-pipeline run` over the dataset assets with the project file of `work`; the figures."""
    home = work / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    project_file = work / "llm_pipeline.yaml"
    project_file.write_text(yaml.safe_dump({"data_dir": "data", **sections}, sort_keys=False), encoding="utf-8")
    for stage_dir in (work / "data").iterdir():  # a fresh data directory: raw/ alone
        if stage_dir.name != "raw":
            shutil.rmtree(stage_dir) if stage_dir.is_dir() else stage_dir.unlink()
    env = {key: value for key, value in os.environ.items() if key != "LLM_PIPELINE_DATA_DIR"}
    env.update(DAGSTER_HOME=str(home), LLM_PIPELINE_CONFIG=str(project_file), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "llm_pipeline.cli", "run", "--select", ",".join(assets)]
    log = work / "llm-pipeline-run.log"
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        returncode = process.wait()
        sampler.stop()
    cli_wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    figures = _read_run(home, env, sampler, assets)
    return RunFigures(
        size_mib=corpus[1] / MIB,
        records=corpus[0],
        success=returncode == 0 and figures["success"],
        steps=figures["steps"],
        cli_wall=cli_wall,
        run_wall=figures["run_wall"],
        children_cpu=children_cpu,
        largest_rss_mib=after.ru_maxrss / 1024,  # the largest of all processes this one waited for
        peak_total_rss_mib=sampler.peak_total_rss_kib / 1024,
        kept=figures["kept"],
        records_in=figures["records_in"],
        dropped_by_reason=figures["dropped_by_reason"],
        load_before=load_before,
        load_after=os.getloadavg(),
        log=log,
    )


def _read_run(home: Path, env: dict[str, str], sampler: TreeSampler, assets: list[str]) -> dict:
    """The run's steps and the filtered stage's counts, read from the run's instance in a child process
    (this process has loaded the repository's project, not the run's)."""
    script = r"""
import json, sys
import dagster as dg
from dagster import DagsterEventType
with dg.DagsterInstance.get() as instance:
    run = instance.get_runs(limit=1)[0]
    stats = instance.get_run_stats(run.run_id)
    steps = {s.step_key: (s.start_time, s.end_time) for s in instance.get_run_step_stats(run.run_id)
             if s.end_time and s.start_time}
    pids = {}
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_WORKER_STARTED):
        pids[record.dagster_event.step_key] = record.dagster_event.pid or record.pid
    event = instance.get_latest_materialization_event(dg.AssetKey("filtered"))
    meta = {k: v.value for k, v in event.asset_materialization.metadata.items()} if event else {}
    json.dump({"success": run.is_success, "run_wall": (stats.end_time or 0) - (stats.start_time or 0),
               "steps": steps, "pids": pids, "kept": meta.get("records_kept"),
               "records_in": meta.get("records_in"), "dropped_by_reason": meta.get("dropped_by_reason", "")},
              sys.stdout)
"""
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    found = json.loads(output)
    steps = []
    for step, (start, end) in found["steps"].items():
        pid = found["pids"].get(step)
        ticks = sampler.tree_cpu_ticks.get(pid) if pid else None
        hwm = sampler.peak_hwm_kib.get(pid) if pid else None
        stage = max((asset for asset in assets if step == asset or step.startswith(asset + "_")), key=len, default="")
        steps.append(
            StepFigures(
                step=step,
                stage=stage,
                wall=end - start,
                process_wall=sampler.last_seen[pid] - sampler.first_seen[pid] if pid in sampler.first_seen else None,
                cpu=ticks / CLOCK_TICKS if ticks is not None else None,
                body_cpu=(
                    body / CLOCK_TICKS if pid and (body := sampler.ticks_since(pid, start)) is not None else None
                ),
                peak_rss_mib=hwm / 1024 if hwm is not None else None,
            )
        )
    order = {asset: number for number, asset in enumerate(assets)}
    steps.sort(key=lambda step: (order.get(step.stage, len(order)), step.step != step.stage, step.step))
    return {**found, "steps": steps}


# ---------------------------------------------------------------------------------------------
# Printing


def _number(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def print_run(figures: RunFigures, label: str) -> None:
    print(f"\n### {label}: {figures.size_mib:.1f} MiB, {figures.records} records")
    print(
        f"load average (1, 5, 15 min) before {' '.join(f'{v:.2f}' for v in figures.load_before)}, "
        f"after {' '.join(f'{v:.2f}' for v in figures.load_after)}"
    )
    if not figures.success:
        print(f"THE JOB FAILED: see {figures.log}")
    checks = [line for line in figures.log.read_text(encoding="utf-8").splitlines() if line.startswith("checks: ")]
    print(f"asset {checks[-1] if checks else 'checks: no summary line in the log'}")
    if figures.kept is not None and figures.records_in:
        print(
            f"filtered kept {figures.kept} of {figures.records_in} records ({figures.kept / figures.records_in:.4f}); "
            f"dropped: {' '.join(figures.dropped_by_reason.split()) or 'none'}"
        )
    print("\n| step | wall s | process wall s | CPU s | step body CPU s | MiB/s per core (body) | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for step in figures.steps:
        rate = (
            _number(figures.size_mib / step.body_cpu, 2)
            if step.step in PER_RECORD_STAGES and step.body_cpu and step.step == step.stage
            else ""
        )
        print(
            f"| {step.step} | {step.wall:.2f} | {_number(step.process_wall)} | {_number(step.cpu)} | {_number(step.body_cpu)} |"
            f" {rate} | {_number(step.peak_rss_mib, 0)} |"
        )
    print("\n| stage (asset + its checks) | steps | wall s (sum) | CPU s (sum) | body CPU s (sum) | checks' CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for stage in dict.fromkeys(step.stage for step in figures.steps):
        own = [step for step in figures.steps if step.stage == stage]
        checks = [step for step in own if step.step != stage]
        cpu = sum(step.cpu or 0.0 for step in own)
        print(
            f"| {stage or '?'} | {len(own)} | {sum(step.wall for step in own):.2f} | {cpu:.1f} | "
            f"{sum(step.body_cpu or 0.0 for step in own):.1f} | "
            f"{sum(step.cpu or 0.0 for step in checks):.1f} |"
        )
    print(
        f"\njob wall: {figures.cli_wall:.1f} s (the llm-pipeline process, imports included), "
        f"{figures.run_wall:.1f} s (the run, as Dagster records it)"
    )
    print(
        f"CPU of every process: {figures.children_cpu:.1f} s (sum over the steps: "
        f"{sum(step.cpu or 0.0 for step in figures.steps):.1f} s); "
        f"{figures.children_cpu / figures.cli_wall:.2f} cores busy on average"
    )
    print(
        f"peak RSS: largest process {figures.largest_rss_mib:.0f} MiB; "
        f"largest sum over the processes alive at once {figures.peak_total_rss_mib:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the public sample data folder (../shared/data)")
    parser.add_argument("--sizes", default="10,40,160", help="corpus sizes in MiB, comma-separated")
    parser.add_argument("--huge", action="store_true", help=f"allow sizes of {HUGE_MIB} MiB and more")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="build the data directories here and leave them")
    parser.add_argument("--workers", type=int, help="also run with this many workers in the per-record stages")
    parser.add_argument(
        "--set", action="append", default=[], metavar="STAGE.KEY=VALUE", help="a project-file setting (YAML value)"
    )
    parser.add_argument(
        "--tiny-default", action="store_true", help="leave base_model unset (a tiny model trained on each split)"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if any(size >= HUGE_MIB for size in sizes) and not args.huge:
        raise SystemExit(f"sizes of {HUGE_MIB} MiB and more need --huge")

    work = args.keep or Path(tempfile.mkdtemp(prefix="llm_pipeline_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"scale benchmark: {os.cpu_count()} cores, python {sys.version.split()[0]}, work folder {work}")
    pool = sentence_pool(args.data)
    print(f"sentence pool: {len(pool)} distinct English sentences from {args.data}")
    sections = parse_overrides(args.set)
    if not args.tiny_default:
        model_dir = work / "base_model"
        if not (model_dir / "config.json").exists():
            build_base_model(pool, model_dir)
        sections.setdefault("base_model", {})["model_name_or_path"] = str(model_dir)
    assets = dataset_assets()
    fields = worker_fields()
    print(f"assets: {', '.join(assets)}; project settings: {json.dumps(sections)}")
    speedups = []
    for size in sizes:
        folder = work / f"{size}mib"
        raw = folder / "data" / "raw" / "jsonl"
        if raw.exists():
            shutil.rmtree(raw)
        started = time.perf_counter()
        corpus = write_corpus(pool, raw, size, args.seed)
        print(
            f"\n{size} MiB: {corpus[0]} records, {len(list(raw.iterdir()))} shards, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        if args.workers and fields:
            one = run_dataset_job(folder, assets, with_workers(sections, fields, 1), corpus)
            print_run(one, f"{size} MiB, 1 worker")
            many = run_dataset_job(folder, assets, with_workers(sections, fields, args.workers), corpus)
            print_run(many, f"{size} MiB, {args.workers} workers")
            speedups.append((size, one, many))
        else:
            print_run(run_dataset_job(folder, assets, sections, corpus), f"{size} MiB")
    print()
    if not fields:
        print("speedup: workers setting not available")
    elif not args.workers:
        print(f"speedup: not measured (give --workers N; the setting exists in {', '.join(fields)})")
    else:
        for size, one, many in speedups:
            print(
                f"speedup at {size} MiB with {args.workers} workers in {', '.join(fields)}: "
                f"job wall {one.run_wall / many.run_wall:.2f}x"
                + "".join(
                    f", {stage} {a.wall / b.wall:.2f}x"
                    for stage in fields
                    for a in one.steps
                    for b in many.steps
                    if a.step == b.step == stage and b.wall
                )
            )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
