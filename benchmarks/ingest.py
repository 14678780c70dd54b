"""Ingestion the seed guide's way and ours, on the same files, in one run.

    python benchmarks/ingest.py --data DIR [--repeats N]

DIR is laid out like ../shared/data: html/<page>/source.html + expected.html, csv/*.csv,
sql/*.sql, instruct/*.json. One line per figure; timings are the fewest CPU seconds of this
one process over N runs (default 3). The figures:

- HTML macro word F1: per page, F1 of the bag of whitespace-separated words of the output
  against expected.html with its tags stripped (BeautifulSoup html.parser, get_text), then
  the mean over pages. Seed: BeautifulSoup(page, "html.parser").get_text(). Ours: extract_text
  in each mode ("main" is the default). Also the share of output words that are not in the
  ground truth (boilerplate), and docs/s.
- CSV characters out / characters in: non-whitespace characters of the text each approach
  hands on, over those of every cell as Python's csv module reads the file (whitespace is not
  counted, so column padding is not text; "NaN" printed for an empty cell is). Seed: pandas
  read_csv, then to_string: of the DataFrame, and of each column (a Series); the index and
  header that to_string prints are left out of the count. Ours: every cell of iter_rows.
- SQL rows recovered per dump, and rows recovered per CPU second. Seed: sqlparse.split, sqlparse.parse of each
  statement (statements over sqlparse's 10,000-token limit raise and are lost), then the
  literals of each parenthesised group under VALUES. Ours: llm_pipeline.parse.sql.iter_rows.
  Dialect agreement: for every two dumps holding the same tables (names compared in lower
  case without underscores), the tables with the same number of rows and with equal values.
- Filter hits: records of each instruction file hit by the narrow phrase list when the filter
  looks at the response (what the pipeline does) and when it looks at the prompt.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with html/, csv/, sql/, instruct/")
    parser.add_argument("--repeats", type=int, default=3, help="timing runs per approach; the best counts")
    args = parser.parse_args()
    print(f"ingest benchmark on {args.data} (python {sys.version.split()[0]}, CPU time, best of {args.repeats} runs)")
    html_figures(args.data / "html", args.repeats)
    csv_figures(sorted((args.data / "csv").glob("*.csv")), args.repeats)
    sql_figures(sorted((args.data / "sql").glob("*.sql")), args.repeats)
    filter_figures(sorted((args.data / "instruct").glob("*.json")))


def best_time(run: Callable[[], object], repeats: int, warm_up: bool = True) -> tuple[float, object]:
    """(fewest CPU seconds of `repeats` runs, the result of the last run).

    CPU time of this process, not wall time: the machines this runs on are often shared, and
    another process's load should not count as ours. A first untimed run warms imports and
    caches (skipped for approaches that take seconds, where it does not matter).
    """
    result = run() if warm_up else None
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


def ratio(ours: float, seed: float) -> str:
    return f"{ours / seed:.2f}x seed" if seed else "seed has none"


# --- HTML -------------------------------------------------------------------------------


def seed_html(page: bytes) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(page, "html.parser").get_text()


def word_f1(output: str, truth: str) -> tuple[float, int, int]:
    """(F1, output words also in the truth, output words) over bags of words."""
    out, gold = Counter(output.split()), Counter(truth.split())
    common = sum((out & gold).values())
    if not common:
        return 0.0, 0, sum(out.values())
    precision, recall = common / sum(out.values()), common / sum(gold.values())
    return 2 * precision * recall / (precision + recall), common, sum(out.values())


def html_figures(folder: Path, repeats: int) -> None:
    from bs4 import BeautifulSoup

    from llm_pipeline.parse.html import extract_text

    pages = [p for p in sorted(folder.iterdir()) if (p / "source.html").is_file() and (p / "expected.html").is_file()]
    if not pages:
        print(f"HTML: no <page>/source.html + expected.html under {folder}")
        return
    sources = [(p / "source.html").read_bytes() for p in pages]
    truths = [BeautifulSoup((p / "expected.html").read_bytes(), "html.parser").get_text() for p in pages]
    approaches = {
        "seed": seed_html,
        "ours main (default)": lambda page: extract_text(page, mode="main"),
        "ours bs4": lambda page: extract_text(page, mode="bs4"),
        "ours full": lambda page: extract_text(page, mode="full"),
    }
    f1s, boilerplate, speeds = {}, {}, {}
    for name, extract in approaches.items():
        seconds, outputs = best_time(lambda extract=extract: [extract(page) for page in sources], repeats)
        scores = [word_f1(output, truth) for output, truth in zip(outputs, truths, strict=False)]
        f1s[name] = sum(f1 for f1, _, _ in scores) / len(scores)
        boilerplate[name] = 1 - sum(common for _, common, _ in scores) / max(1, sum(total for _, _, total in scores))
        speeds[name] = len(sources) / seconds
    seed = speeds["seed"]
    print(f"HTML macro word F1 ({len(pages)} pages): " + " | ".join(f"{n} {v:.3f}" for n, v in f1s.items()))
    print("HTML output words not in the ground truth: " + " | ".join(f"{n} {v:.1%}" for n, v in boilerplate.items()))
    print(
        "HTML docs/s: "
        + " | ".join(f"{n} {v:.1f}" + ("" if n == "seed" else f" ({ratio(v, seed)})") for n, v in speeds.items())
    )


# --- CSV --------------------------------------------------------------------------------


def non_space_chars(text: str) -> int:
    return sum(len(word) for word in text.split())


def reference_cells(path: Path) -> int:
    """Non-whitespace characters of every data cell, read by Python's csv module."""
    from llm_pipeline.parse.tabular import detect_encoding, sniff_delimiter

    csv.field_size_limit(2**31 - 1)  # cells of any length
    with open(path, encoding=detect_encoding(path), newline="") as f:
        delimiter = sniff_delimiter(f.read(64 * 1024))
        f.seek(0)
        rows = csv.reader(f, delimiter=delimiter)
        next(rows, None)
        return sum(non_space_chars(cell) for row in rows for cell in row)


def seed_csv(path: Path):
    import pandas as pd

    frame = pd.read_csv(path)
    return frame, frame.to_string()


def ours_csv(path: Path) -> list[dict[str, str]]:
    from llm_pipeline.parse.tabular import iter_rows

    return list(iter_rows(path, on_error=lambda location, reason: None))


def csv_figures(paths: list[Path], repeats: int) -> None:
    for path in paths:
        chars_in = reference_cells(path)
        seed_seconds, (frame, _) = best_time(lambda path=path: seed_csv(path), repeats)
        ours_seconds, rows = best_time(lambda path=path: ours_csv(path), repeats)
        # The same renderings without the index and header, so that only cell text is counted.
        seed_frame = non_space_chars(frame.to_string(index=False, header=False))
        seed_series = sum(non_space_chars(frame[column].to_string(index=False)) for column in frame.columns)
        ours = sum(non_space_chars(cell) for row in rows for cell in row.values())
        print(
            f"CSV characters out / characters in, {path.name}: seed DataFrame.to_string {seed_frame / chars_in:.3f}"
            f" | seed Series.to_string per column {seed_series / chars_in:.3f} | ours {ours / chars_in:.3f}"
        )
        seed_rate, ours_rate = len(frame) / seed_seconds, len(rows) / ours_seconds
        print(
            f"CSV rows/s, {path.name}: seed read_csv + to_string {seed_rate:,.0f} | ours iter_rows {ours_rate:,.0f} ({ratio(ours_rate, seed_rate)})"
        )


# --- SQL --------------------------------------------------------------------------------


def seed_sql(path: Path) -> tuple[list[list[object]], int]:
    """(rows, statements sqlparse refused): the naive approach, written plainly."""
    import sqlparse
    from sqlparse import sql, tokens
    from sqlparse.exceptions import SQLParseError

    rows, refused = [], 0
    for text in sqlparse.split(path.read_text(encoding="utf-8")):
        try:
            statement = sqlparse.parse(text)[0]
        except SQLParseError:  # "Maximum number of tokens exceeded (10000)"
            refused += 1
            continue
        if statement.get_type() != "INSERT":
            continue
        for values in (token for token in statement.tokens if isinstance(token, sql.Values)):
            for group in values.get_sublists():
                if isinstance(group, sql.Parenthesis):
                    literals = [t for t in group.flatten() if t.ttype in tokens.Literal or t.normalized == "NULL"]
                    rows.append([_seed_literal(t) for t in literals])
    return rows, refused


def _seed_literal(token) -> object:
    from sqlparse import tokens

    if token.normalized == "NULL":
        return None
    if token.ttype in tokens.Literal.String:
        return token.value[1:-1].replace("''", "'")
    return float(token.value) if "." in token.value else int(token.value)


def ours_sql(path: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    from llm_pipeline.parse.sql import iter_rows

    errors: list[str] = []
    return list(iter_rows(path, on_error=lambda location, reason: errors.append(f"{location}: {reason}"))), errors


def sql_figures(paths: list[Path], repeats: int) -> None:
    tables_of: dict[str, dict[str, list[tuple]]] = {}
    for path in paths:
        seed_seconds, (seed_rows, refused) = best_time(lambda path=path: seed_sql(path), repeats, warm_up=False)
        ours_seconds, (rows, errors) = best_time(lambda path=path: ours_sql(path), repeats)
        print(
            f"SQL rows recovered, {path.name}: seed {len(seed_rows):,} ({refused} statements refused by sqlparse)"
            f" | ours {len(rows):,} ({len(errors)} statements reported)"
        )
        seed_rate, ours_rate = len(seed_rows) / seed_seconds, len(rows) / ours_seconds
        print(f"SQL rows/s, {path.name}: seed {seed_rate:,.0f} | ours {ours_rate:,.0f} ({ratio(ours_rate, seed_rate)})")
        by_table = defaultdict(list)
        for table, row in rows:
            by_table[_table_key(table)].append(tuple(row.values()))
        tables_of[path.name] = by_table
    for (name_a, a), (name_b, b) in itertools.combinations(tables_of.items(), 2):
        if set(a) != set(b):
            continue
        same_count = [t for t in a if len(a[t]) == len(b[t])]
        differing = {
            t: _differing_columns(a[t], b[t]) for t in same_count if sorted(map(repr, a[t])) != sorted(map(repr, b[t]))
        }
        detail = "; ".join(f"{t}: {cols}" for t, cols in differing.items())
        print(
            f"SQL dialect agreement, {name_a} vs {name_b}: {len(same_count)}/{len(a)} tables with the same row count"
            f" ({sum(map(len, a.values())):,} vs {sum(map(len, b.values())):,} rows);"
            f" {len(same_count) - len(differing)}/{len(a)} with equal values"
            + (f" (values differ in {detail})" if differing else "")
        )


def _table_key(name: str) -> str:
    return name.lower().replace("_", "")


def _differing_columns(a: list[tuple], b: list[tuple]) -> str:
    """Which column positions differ, with one example, in rows matched by their first value."""
    by_key = {row[0]: row for row in b}
    for row in a:
        other = by_key.get(row[0])
        if other is not None and other != row:
            positions = [i for i, (x, y) in enumerate(zip(row, other, strict=False)) if x != y]
            return f"column {positions[0] + 1} such as {row[positions[0]]!r} vs {other[positions[0]]!r}"
    return "row order or duplicate keys"


# --- filter hits ------------------------------------------------------------------------


def prompt_response_pairs(records: Iterable[dict]) -> list[tuple[str, str]]:
    """(prompt, response) per record: alpaca-style fields, or ShareGPT conversations (human
    turns form the prompt, model turns the response)."""
    from llm_pipeline.stages.plaintext.columns import infer_mapping

    pairs = []
    for record in records:
        if "conversations" in record:
            turns = record["conversations"]
            human = [t["value"] for t in turns if t.get("from") in ("human", "user")]
            model = [t["value"] for t in turns if t.get("from") not in ("human", "user", "system")]
            pairs.append(("\n".join(human), "\n".join(model)))
            continue
        mapping = infer_mapping([record])
        if mapping is None or not mapping.input:
            continue
        prompt = "\n\n".join(str(record[name]) for name in mapping.input if record.get(name))
        pairs.append((prompt, str(record[mapping.output])))
    return pairs


def filter_figures(paths: list[Path]) -> None:
    from llm_pipeline.records import Record
    from llm_pipeline.stages.filtered.filters.phrases import NARROW_PHRASES, phrase_filter

    check = phrase_filter(NARROW_PHRASES)
    totals = Counter()
    for path in paths:
        pairs = prompt_response_pairs(json.loads(path.read_text(encoding="utf-8")))
        on_response = sum(check(Record.supervised(p, r, path.name, "json")) is not None for p, r in pairs)
        on_prompt = sum(check(Record.supervised(r, p, path.name, "json")) is not None for p, r in pairs)
        totals.update(records=len(pairs), response=on_response, prompt=on_prompt)
        print(
            f"Filter hits (narrow phrases), {path.name} ({len(pairs)} records): on responses {on_response} | on prompts {on_prompt}"
        )
    if paths:
        print(
            f"Filter hits (narrow phrases), all ({totals['records']} records): on responses {totals['response']} | on prompts {totals['prompt']}"
        )


if __name__ == "__main__":
    main()
