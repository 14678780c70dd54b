"""What one changed raw file costs: the dataset job after an edit against the same job from scratch.

    python benchmarks/incremental.py --data ../shared/data [--files 200] [--keep DIR]

A data directory of `--files` raw files is built from the public sample data under `--data`
(its real HTML pages and the two Chinook SQL dumps as they are; the Netflix CSV cut into
shards; the Alpaca records cut into JSONL shards and into generated HTML articles). A fixed
tiny base model is built once and configured, as a user's base model would be. Then, in one
process and one Dagster instance:

0. warm-up: the job once on the repository's bundled samples (first imports are not measured);
1. full: the `prepare_dataset` job on an empty data directory (nothing cached);
2. one file changed, three times: one record edited in a JSONL shard, one row appended to a
   CSV shard, one paragraph added to an HTML article; the job runs after each edit;
3. one file added, 4. one file removed: the same, for completeness.

Printed: every step's seconds in each run, the `plaintext` ratio and the whole job's ratio
(median of the three edits) against the full run (goals: at most 0.10 and 0.30), and how
many raw files each run parsed.
Timings are wall-clock seconds of the steps as Dagster records them, and the CPU seconds of the
whole job in this process, which other load on a shared machine disturbs less (set
OMP_NUM_THREADS).
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<header><nav><a href="/">Home</a> | <a href="/guides">Guides</a> | <a href="/about">About us</a></nav></header>
<aside class="sidebar"><h3>Popular</h3><ul><li><a href="/a">Ten tips for spring</a></li><li><a href="/b">Subscribe to our newsletter</a></li></ul></aside>
<main><article><h1>{title}</h1>
{sections}
</article></main>
<footer><p>Copyright 2026 Example Guides. All rights reserved.</p><p><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a></p></footer>
</body></html>
"""


def build_corpus(shared: Path, raw: Path, files: int) -> dict[str, int]:
    """Write `files` raw files under raw/<format>/; return how many of each format."""
    for fmt in ("html", "csv", "sql", "jsonl"):
        (raw / fmt).mkdir(parents=True, exist_ok=True)
    for dump in sorted((shared / "sql").glob("*.sql")):
        shutil.copy(dump, raw / "sql" / dump.name)
    pages = sorted((shared / "html").glob("*/source.html"))
    for page in pages:
        shutil.copy(page, raw / "html" / f"{page.parent.name}.html")
    identity = json.loads((shared / "instruct" / "llamafactory__identity.json").read_text(encoding="utf-8"))
    (raw / "jsonl" / "identity.jsonl").write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in identity), encoding="utf-8"
    )
    fixed = len(list((raw / "sql").iterdir())) + len(pages) + 1
    remaining = max(files - fixed, 3)
    csv_shards = remaining * 3 // 10
    jsonl_shards = (remaining - csv_shards) // 2
    html_articles = remaining - csv_shards - jsonl_shards
    _write_csv_shards(shared / "csv" / "netflix_titles.csv", raw / "csv", csv_shards)
    records = json.loads((shared / "instruct" / "llamafactory__alpaca_en_demo.json").read_text(encoding="utf-8"))
    half = len(records) // 2
    _write_jsonl_shards(records[:half], raw / "jsonl", jsonl_shards)
    _write_articles(records[half:], raw / "html", html_articles)
    return {fmt: len(list((raw / fmt).iterdir())) for fmt in ("html", "csv", "sql", "jsonl")}


def _chunks(items: list, count: int) -> list[list]:
    return [items[number * len(items) // count : (number + 1) * len(items) // count] for number in range(count)]


def _write_csv_shards(source: Path, folder: Path, count: int) -> None:
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    for number, chunk in enumerate(_chunks(body, count)):
        with (folder / f"titles_{number:03d}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(chunk)


def _write_jsonl_shards(records: list[dict], folder: Path, count: int) -> None:
    for number, chunk in enumerate(_chunks(records, count)):
        lines = [json.dumps(record, ensure_ascii=False) for record in chunk]
        (folder / f"instructions_{number:03d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_articles(records: list[dict], folder: Path, count: int) -> None:
    for number, chunk in enumerate(_chunks(records, count)):
        sections = "\n".join(
            f"<h2>{html.escape(record['instruction'])}</h2>\n"
            + "\n".join(
                f"<p>{html.escape(paragraph)}</p>" for paragraph in record["output"].split("\n") if paragraph.strip()
            )
            for record in chunk
        )
        title = html.escape(chunk[0]["instruction"])
        (folder / f"guide_{number:03d}.html").write_text(PAGE.format(title=title, sections=sections), encoding="utf-8")


def build_base_model(texts: list[str], target: Path) -> None:
    from llm_pipeline.stages.base_model.tiny import build_tiny_base_model

    build_tiny_base_model(texts, target, vocab_size=2048, hidden_size=64, num_layers=2, num_heads=4, seed=0)


def run_job(job, instance, data_dir: Path, run_config: dict) -> dict[str, float]:
    """Execute the job in process; return {step: seconds} and the whole run's seconds under 'job'."""
    from llm_pipeline.defs.launchers import SubprocessTrainingLauncher
    from llm_pipeline.defs.resources import DataDirResource

    started, cpu_started = time.perf_counter(), time.process_time()
    result = job.execute_in_process(
        run_config=run_config,
        instance=instance,
        resources={"data_dir": DataDirResource(path=str(data_dir)), "training_launcher": SubprocessTrainingLauncher()},
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if not result.success:
        raise SystemExit(f"the job failed: {result.run_id}")
    stats = {stat.step_key: stat.end_time - stat.start_time for stat in instance.get_run_step_stats(result.run_id)}
    stats["job"] = wall
    stats["job (CPU seconds of this process)"] = cpu
    return stats


def plaintext_files_parsed(instance, data_dir: Path) -> str:
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey("plaintext"))
    metadata = event.asset_materialization.metadata
    parsed = metadata.get("files_parsed")
    cached = metadata.get("files_from_cache")
    return f"{parsed.value if parsed else '?'} parsed, {cached.value if cached else '?'} from cache"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the public sample data folder (../shared/data)")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument(
        "--keep", type=Path, help="build the data directory here and leave it (default: a temporary one)"
    )
    parser.add_argument("--run-config", type=Path, help="a YAML run config whose ops are added to the job's")
    args = parser.parse_args()

    import dagster as dg

    from llm_pipeline.definitions import defs

    work = args.keep or Path(tempfile.mkdtemp(prefix="llm_pipeline_incremental_"))
    data_dir = work / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    counts = build_corpus(args.data, data_dir / "raw", args.files)
    print(
        f"raw files: {sum(counts.values())} ({', '.join(f'{n} {fmt}' for fmt, n in counts.items())}) in {data_dir / 'raw'}"
    )
    model_dir = work / "base_model"
    if not model_dir.exists():
        alpaca = json.loads((args.data / "instruct" / "llamafactory__alpaca_en_demo.json").read_text(encoding="utf-8"))
        build_base_model([record["output"] for record in alpaca], model_dir)
    run_config = {"ops": {"base_model": {"config": {"model_name_or_path": str(model_dir)}}}}
    if args.run_config:  # e.g. a feature turned off, to compare with code that did not have it
        import yaml

        run_config["ops"].update((yaml.safe_load(args.run_config.read_text(encoding="utf-8")) or {}).get("ops", {}))

    job = defs.resolve_job_def("prepare_dataset")
    raw = data_dir / "raw"
    added = raw / "jsonl" / "added.jsonl"

    def edit_jsonl() -> None:
        path = min((raw / "jsonl").glob("instructions_*.jsonl"))
        lines = path.read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[0])
        record["output"] += " This answer was revised after review."
        path.write_text("\n".join([json.dumps(record, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")

    def edit_csv() -> None:
        path = min((raw / "csv").glob("titles_*.csv"))
        with path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(
                [
                    "s9999",
                    "Movie",
                    "Harbour Lights",
                    "",
                    "",
                    "",
                    "",
                    "2021",
                    "",
                    "",
                    "Drama",
                    "A lighthouse keeper and a young fisher find an old logbook that changes their village.",
                ]
            )

    def edit_html() -> None:
        # An article the phrase filter keeps, so that the edit reaches the splits.
        path = min(
            page
            for page in (raw / "html").glob("guide_*.html")
            if " ai " not in page.read_text(encoding="utf-8").lower()
        )
        page = path.read_text(encoding="utf-8")
        path.write_text(
            page.replace(
                "</article>",
                "<p>Update: readers asked for a shorter version of these steps, added below the first.</p></article>",
            ),
            encoding="utf-8",
        )

    def add_one_file() -> None:
        added.write_text(
            json.dumps(
                {
                    "instruction": "Name a fruit that is yellow when ripe.",
                    "input": "",
                    "output": "A banana is yellow when it is ripe, and it is sweet and soft to eat.",
                }
            )
            + "\n",
            encoding="utf-8",
        )

    # Three single-file edits, one per format, so that one slow run (a GC pause, a busy core)
    # does not decide the ratio: the ratios use the median of the three.
    edits = [("JSONL file changed", edit_jsonl), ("CSV file changed", edit_csv), ("HTML file changed", edit_html)]
    scenarios = [
        ("full (nothing cached)", lambda: None),
        *edits,
        ("one file added", add_one_file),
        ("one file removed", added.unlink),
    ]
    home = work / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        # Warm-up on the bundled samples, so that no measured run pays for first imports.
        warm = work / "warm_up"
        shutil.rmtree(warm, ignore_errors=True)
        shutil.copytree(Path(__file__).resolve().parent.parent / "data" / "raw", warm / "raw")
        run_job(job, instance, warm, run_config)
        results = {}
        for name, change in scenarios:
            change()
            results[name] = run_job(job, instance, data_dir, run_config)
            print(
                f"{name}: job {results[name]['job']:.1f} s; plaintext files: {plaintext_files_parsed(instance, data_dir)}"
            )

    totals = ["job", "job (CPU seconds of this process)"]
    steps = [step for step in results["full (nothing cached)"] if step not in totals] + totals
    print()
    print("| step | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for step in steps:
        print(f"| {step} | " + " | ".join(f"{run.get(step, 0.0):.2f}" for run in results.values()) + " |")
    full = results["full (nothing cached)"]
    plaintext_ratio = statistics.median(results[name]["plaintext"] for name, _ in edits) / full["plaintext"]
    job_ratio = statistics.median(results[name]["job"] for name, _ in edits) / full["job"]
    cpu_ratio = statistics.median(results[name][totals[1]] for name, _ in edits) / full[totals[1]]
    print()
    print(
        f"plaintext, one file changed / full (median of the {len(edits)} edits): {plaintext_ratio:.3f} (goal <= 0.10)"
    )
    print(
        f"dataset job, one file changed / full (median of the {len(edits)} edits): {job_ratio:.3f} wall, {cpu_ratio:.3f} CPU (goal <= 0.30)"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
