"""The phrase filter's one regular expression: one start condition for all phrases against a
lookbehind in front of each.

    python benchmarks/phrases.py --data ../shared/data [--repeat 3]

The texts are every piece of running text in the public sample data (`scale.sample_texts`: the
pages' ground truth, the Alpaca, identity and chat records, the Netflix descriptions), folded as
the filter folds them. For the narrow and the aggressive list, both patterns search every text
`--repeat` times; printed: CPU seconds of each, the ratio, whether they found the same match
(position and phrase) in every text, and how many texts hold a phrase.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from scale import sample_texts

from llm_pipeline.stages.filtered.filters.phrases import PHRASE_LISTS, fold, word_bounded_alternation


def per_phrase_alternation(phrases: list[str]) -> str:
    """The plain form: each phrase with its own word boundaries."""

    def bounded(phrase: str) -> str:
        start = r"(?<!\w)" if re.match(r"\w", phrase) else ""
        return start + re.escape(phrase) + (r"(?!\w)" if re.search(r"\w$", phrase) else "")

    return "|".join(bounded(phrase) for phrase in phrases)


def timed(pattern: re.Pattern, texts: list[str], repeat: int) -> tuple[float, list]:
    start = time.process_time()
    for _ in range(repeat):
        found = [(match.start(), match.group()) if (match := pattern.search(text)) else None for text in texts]
    return time.process_time() - start, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the public sample data folder (../shared/data)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = [fold(text) for text in sample_texts(args.data) if text.strip()]
    print(f"{len(texts):,} texts, {sum(map(len, texts)) / 2**20:.1f} MiB")
    for name in ("narrow", "aggressive"):
        phrases = sorted({fold(phrase) for phrase in PHRASE_LISTS[name]}, key=lambda phrase: (-len(phrase), phrase))
        plain, plain_found = timed(re.compile(per_phrase_alternation(phrases)), texts, args.repeat)
        factored, found = timed(re.compile(word_bounded_alternation(phrases)), texts, args.repeat)
        hits = sum(match is not None for match in found)
        print(
            f"{name} ({len(phrases)} phrases): lookbehind per phrase {plain:.2f} s CPU, one start condition "
            f"{factored:.2f} s CPU: {plain / factored:.1f}x; same matches in every text: {found == plain_found}; "
            f"texts holding a phrase: {hits:,}"
        )


if __name__ == "__main__":
    main()
