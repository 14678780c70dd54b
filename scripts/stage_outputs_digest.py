"""Digests of every stage output, to prove that a change of code left the pipeline's results alone.

    python scripts/stage_outputs_digest.py snapshot --raw DIR --out before.json
    python scripts/stage_outputs_digest.py snapshot --corpus ../shared/data --out before.json
    python scripts/stage_outputs_digest.py snapshot --raw data/raw --run-config off.yaml --out after.json
    python scripts/stage_outputs_digest.py compare before.json after.json

`snapshot` copies the raw files (`--raw`: a folder laid out like data/raw; `--corpus`: the
200-file benchmark corpus that benchmarks/incremental.py builds from the public sample data)
into a fresh data directory, runs the `prepare_dataset` job there in one process, and writes,
per stage output and per quarantine folder, the row count and a sha256 of every column (rows
in order), so that record ids, texts, token ids, labels and rejected entries are all covered. `--run-config`
(a YAML run config) turns a new feature off, to show that only it changes outputs.
It touches the package only through `llm_pipeline.definitions:defs` and the data directory, so
the same script runs against the code before and after a restructuring. `compare` prints the
columns that differ and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

STAGES = ("plaintext", "filtered", "clustered", "splits", "tokenized")


def dataset_digests(path: Path) -> dict[str, dict]:
    """{split or "": {"rows": n, "columns": {name: sha256}}} of a dataset saved with save_to_disk."""
    import datasets

    loaded = datasets.load_from_disk(str(path))
    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
    result = {}
    for name, dataset in parts:
        columns = {}
        for column in dataset.column_names:
            digest = hashlib.sha256()
            for batch in dataset.select_columns([column]).iter(batch_size=4096):
                for value in batch[column]:
                    digest.update(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
            columns[column] = digest.hexdigest()
        result[name] = {"rows": len(dataset), "columns": columns}
    return result


def snapshot(raw: Path | None, corpus: Path | None, out: Path, keep: Path | None, run_config: dict) -> None:
    import dagster as dg

    work = keep or Path(tempfile.mkdtemp(prefix="llm_pipeline_digest_"))
    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    if corpus is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
        from incremental import build_corpus

        build_corpus(corpus, data_dir / "raw", 200)
    else:
        shutil.copytree(raw, data_dir / "raw")
    os.environ["LLM_PIPELINE_DATA_DIR"] = str(data_dir)
    from llm_pipeline.definitions import defs

    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(work / "dagster_home")) as instance:
        result = defs.resolve_job_def("prepare_dataset").execute_in_process(instance=instance, run_config=run_config)
        if not result.success:
            raise SystemExit(f"prepare_dataset failed (run {result.run_id})")
    digests = {}
    for stage in STAGES:
        digests[stage] = dataset_digests(data_dir / stage)
        rejected = data_dir / "rejected" / stage
        if rejected.exists():
            digests[f"rejected/{stage}"] = dataset_digests(rejected)
    out.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"{out}: "
        + ", ".join(f"{name} {sum(part['rows'] for part in parts.values())}" for name, parts in digests.items())
    )
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)


def compare(before: Path, after: Path) -> int:
    one, other = (json.loads(path.read_text(encoding="utf-8")) for path in (before, after))
    differences = []
    for output in sorted(set(one) | set(other)):
        left, right = one.get(output, {}), other.get(output, {})
        for split in sorted(set(left) | set(right)):
            a, b = left.get(split), right.get(split)
            where = f"{output}/{split}" if split else output
            if a is None or b is None:
                differences.append(f"{where}: only in {'after' if a is None else 'before'}")
                continue
            if a["rows"] != b["rows"]:
                differences.append(f"{where}: {a['rows']} rows before, {b['rows']} after")
            for column in sorted(set(a["columns"]) | set(b["columns"])):
                if a["columns"].get(column) != b["columns"].get(column):
                    differences.append(f"{where}: column {column} differs")
    outputs = sum(len(parts) for parts in one.values())
    if differences:
        print("\n".join(differences))
        return 1
    print(
        f"identical: {outputs} outputs, {sum(len(p['columns']) for parts in one.values() for p in parts.values())} columns"
    )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot", help="run prepare_dataset on a copy of raw files and digest every output")
    source = take.add_mutually_exclusive_group(required=True)
    source.add_argument("--raw", type=Path, help="a raw folder (html/, csv/, sql/, jsonl/, ...), e.g. data/raw")
    source.add_argument(
        "--corpus", type=Path, help="the public sample data (../shared/data): the 200-file benchmark corpus"
    )
    take.add_argument("--out", type=Path, required=True)
    take.add_argument("--run-config", type=Path, help="a YAML run config for the job (default: none)")
    take.add_argument("--keep", type=Path, help="work here and leave the data directory (default: a temporary folder)")
    check = commands.add_parser("compare", help="compare two snapshots")
    check.add_argument("before", type=Path)
    check.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "snapshot":
        import yaml

        run_config = yaml.safe_load(args.run_config.read_text(encoding="utf-8")) if args.run_config else {}
        snapshot(args.raw, args.corpus, args.out, args.keep, run_config or {})
    else:
        raise SystemExit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
