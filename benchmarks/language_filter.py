"""How the language filter judges the mixed-language public sample data: English kept, the rest dropped?

    python benchmarks/language_filter.py --data ../shared/data

Records are built from the sample files the way the pipeline would judge them (the filter reads
the response side): alpaca_en_demo and identity give one record per item (`output`), the
ShareGPT files (FastChat dummy, glaive tool-call zh) one record per assistant turn, and the HTML
pages (`expected.html` and `source.html`, main text extracted by `llm_pipeline.parse.html`) one
text each. Which language a record truly is in comes from its file (identity holds English and
Chinese items, and some glaive answers are English: an answer with Chinese characters is
Chinese, one without is English), not from the detector.

It prints, for the shipped settings, per group: records, judged (long enough), dropped; then the
English and non-English drops over a grid of `min_bytes` x `min_score`. The requirement behind
the defaults: no English answer of alpaca_en_demo or identity is dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llm_pipeline.records import Record  # noqa: E402
from llm_pipeline.stages.filtered.filters.language import NO_LANGUAGE, Settings, detect, from_settings, judged_length  # noqa: E402

CJK = re.compile(r"[\u3400-\u9fff]")
HTML_LANGUAGES = {"heise": "de", "lemonde-1": "fr"}  # every other sample page is English
GRID_BYTES = (0, 20, 30, 40, 60, 100)
GRID_SCORES = (0.0, 0.3, 0.5, 0.65, 0.7, 0.8, 0.95)


def sample_records(data: Path) -> list[tuple[str, bool, Record]]:
    """(group, is English, record) of every sample."""
    samples = []
    for name in ("llamafactory__alpaca_en_demo", "llamafactory__identity"):
        for number, item in enumerate(json.loads((data / "instruct" / f"{name}.json").read_text()), start=1):
            prompt = "\n".join(part for part in (item["instruction"], item.get("input", "")) if part)
            record = Record.supervised(prompt, item["output"], f"{name} item {number}", "json")
            english = not CJK.search(item["output"])
            samples.append((f"{name} ({'en' if english else 'zh'})", english, record))
    for folder, name in (
        ("instruct", "fastchat__dummy_conversation"),
        ("chat", "llamafactory__glaive_toolcall_zh_demo"),
    ):
        for number, item in enumerate(json.loads((data / folder / f"{name}.json").read_text()), start=1):
            turns = item["conversations"]
            for turn, (asked, answer) in enumerate(zip(turns, turns[1:], strict=False)):
                if answer["from"] == "gpt":
                    source = f"{name} item {number} turn {turn + 2}"
                    english = not CJK.search(answer["value"])  # glaive's translation tasks answer in English
                    group = f"{name} ({'en' if english else 'zh'})"
                    samples.append((group, english, Record.supervised(asked["value"], answer["value"], source, "json")))
    from llm_pipeline.parse.html import extract_text

    for page in sorted((data / "html").glob("*/*.html")):
        language = HTML_LANGUAGES.get(page.parent.name, "en")
        text = extract_text(page.read_bytes())
        record = Record.unsupervised(text, f"{page.parent.name}/{page.name}", "html")
        samples.append((f"html ({language})", language == "en", record))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the public sample data folder (../shared/data)")
    args = parser.parse_args()
    samples = sample_records(args.data)
    shipped = Settings()
    check = from_settings(shipped)
    print(f"shipped settings: {shipped}")
    print(f"{'group':<48} {'records':>8} {'judged':>7} {'dropped':>8}")
    rows: dict[str, Counter] = {}
    drops = []
    for group, english, record in samples:
        counts = rows.setdefault(group, Counter())
        counts["records"] += 1
        counts["judged"] += judged_length(record.response) >= shipped.min_bytes
        if (drop := check(record)) is not None:
            counts["dropped"] += 1
            drops.append((english, record.source, drop.detail))
    for group, counts in rows.items():
        print(f"{group:<48} {counts['records']:>8} {counts['judged']:>7} {counts['dropped']:>8}")
    english_required = sum(
        1 for english, source, _ in drops if english and source.startswith(("llamafactory__alpaca", "llamafactory__id"))
    )
    print(f"English records of alpaca_en_demo + identity dropped: {english_required} (must be 0)")
    print(f"English records dropped in all: {sum(1 for english, _, _ in drops if english)}")
    print(
        f"non-English records dropped: {sum(1 for english, _, _ in drops if not english)} "
        f"of {sum(1 for _, english, _ in samples if not english)}"
    )
    for english, source, detail in drops:
        if english:
            print(f"  English dropped: {source}: {detail}")

    # The grid: detect once per record, then apply every pair of thresholds.
    detected = [(english, judged_length(record.response), *detect(record.response)) for _, english, record in samples]
    kept = set(shipped.languages)
    print(f"\nEnglish dropped / non-English dropped (of {sum(not e for e, *_ in detected)}), languages {sorted(kept)}")
    print("min_bytes \\ min_score " + "".join(f"{score:>12}" for score in GRID_SCORES))
    for min_bytes in GRID_BYTES:
        cells = []
        for min_score in GRID_SCORES:
            dropped = Counter(
                english
                for english, length, language, score in detected
                if length >= min_bytes and language not in kept | NO_LANGUAGE and score >= min_score
            )
            cells.append(f"{dropped[True]:>5} / {dropped[False]:<4}")
        print(f"{min_bytes:>21} " + "".join(f"{cell:>12}" for cell in cells))


if __name__ == "__main__":
    main()
