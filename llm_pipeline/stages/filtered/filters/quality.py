"""Quality heuristics in the style of Gopher (Rae et al., 2021, appendix A).

Each check reads one text (the response of a supervised record, each assistant turn of a
conversation, or the whole unsupervised text) and answers None to keep it or a `Drop` naming
the heuristic and the measured value.
The Gopher thresholds were set for web documents; the defaults here differ where instruction
data differs, and each difference is stated on its field.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from llm_pipeline.records import Record
from llm_pipeline.setting import setting
from llm_pipeline.stages.filtered.filters.base import Drop, Filter
from llm_pipeline.text import is_unspaced, split_words

_ALPHA = re.compile(r"[^\W\d_]")
BULLETS = ("-", "*", "\u2022", "\u25cf", "\u2023", "\u25e6", "\u2043")
ELLIPSES = ("...", "\u2026")


class TextStats:
    """Words, lines and paragraphs of one text, split once and shared by every heuristic."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def words(self) -> list[str]:
        return split_words(self.text)

    @cached_property
    def spaced_words(self) -> list[str]:
        """Words of space-delimited scripts only (the ones a mean word length means something for)."""
        return [word for word in self.words if not is_unspaced(word)]

    @cached_property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]

    @cached_property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in re.split(r"\n\s*\n", self.text) if part.strip()]


def repeated_fraction(items: Sequence[str]) -> tuple[float, float]:
    """Share of items repeating an earlier one, by count and by characters (Gopher's dup fractions)."""
    seen: set[str] = set()
    repeats = repeated_chars = 0
    for item in items:
        if item in seen:
            repeats += 1
            repeated_chars += len(item)
        seen.add(item)
    total_chars = sum(len(item) for item in items)
    if not items or not total_chars:
        return 0.0, 0.0
    return repeats / len(items), repeated_chars / total_chars


def top_ngram_char_fraction(words: Sequence[str], n: int) -> float:
    """Share of word characters covered by the most frequent n-gram, if it occurs more than once."""
    grams = Counter(tuple(words[index : index + n]) for index in range(len(words) - n + 1))
    if not grams:
        return 0.0
    gram, count = grams.most_common(1)[0]  # ties: the first seen, so the answer is stable
    if count < 2:
        return 0.0
    starts = [index for index in range(len(words) - n + 1) if tuple(words[index : index + n]) == gram]
    return _covered_char_fraction(words, starts, n)


def duplicate_ngram_char_fraction(words: Sequence[str], n: int) -> float:
    """Share of word characters inside any n-gram that occurs more than once (overlaps counted once)."""
    starts_of: dict[tuple[str, ...], list[int]] = {}
    for index in range(len(words) - n + 1):
        starts_of.setdefault(tuple(words[index : index + n]), []).append(index)
    starts = [start for positions in starts_of.values() if len(positions) > 1 for start in positions]
    return _covered_char_fraction(words, starts, n)


def _covered_char_fraction(words: Sequence[str], starts: Sequence[int], n: int) -> float:
    covered = bytearray(len(words))
    for start in starts:
        covered[start : start + n] = b"\x01" * n
    total = sum(len(word) for word in words)
    return sum(len(word) for word, flag in zip(words, covered, strict=False) if flag) / total if total else 0.0


_RESPONSE = "the response of a supervised record, or the whole unsupervised text"


@dataclass(frozen=True)
class Settings:
    """Gopher-style quality heuristics on the response of a supervised record, or the whole unsupervised
    text; a threshold of 0 turns its check off (where its help says so)."""

    # Gopher asks 50 words of a web page; a note or a forum post can be shorter and still good,
    # and a supervised answer such as "Paris." is complete, so a response needs only one word.
    min_words_text: int = setting(5, "Drop unsupervised texts with fewer words (`too_few_words`).")
    min_words_response: int = setting(
        1, "Drop supervised records whose response has fewer words; 1 keeps short answers such as `Paris.`."
    )
    max_words: int = setting(100_000, f"Drop when {_RESPONSE} has more words (`too_many_words`; 0: no limit).")
    # The ratio and repetition thresholds were calibrated on documents of at least 50 words;
    # on shorter texts one repeated phrase swings them, so shorter texts are not judged.
    judge_min_words: int = setting(
        50,
        "The ratio and repetition heuristics below judge only texts of at least this many words "
        "(Gopher's minimum document length: on shorter texts one repeated phrase swings the ratios).",
    )
    # Document-shape heuristics, Gopher's values. They judge unsupervised text; on responses only
    # when `shape_checks_on_responses`, since tables, arithmetic, code and lists are good answers.
    min_mean_word_length: float = setting(3.0, "Drop text whose mean word length is lower (`mean_word_length`).")
    max_mean_word_length: float = setting(10.0, "Drop text whose mean word length is higher (0: no limit).")
    max_symbol_word_ratio: float = setting(
        0.1, "Drop text with more '#' per word, or more '...' per word, than this (`symbol_ratio`; 0: off)."
    )
    min_alpha_word_fraction: float = setting(
        0.8, "Drop text where a smaller share of words contains a letter (`non_alpha_words`)."
    )
    max_bullet_line_fraction: float = setting(
        0.9, "Drop text where a larger share of lines starts with a bullet (`bullet_lines`; 0: off)."
    )
    max_ellipsis_line_fraction: float = setting(
        0.3, "Drop text where a larger share of lines ends with an ellipsis (`ellipsis_lines`; 0: off)."
    )
    shape_checks_on_responses: bool = setting(
        False,
        "Apply the mean-word-length, symbol, alphabetic-word, bullet and ellipsis checks to supervised "
        "responses too; off by default because tables, arithmetic, code and lists are good answers.",
    )
    # Repetition, on every text. Gopher: lines 0.3 / 0.2, top n-grams 0.20 / 0.18 / 0.16, duplicate
    # n-grams 0.15 (n=5) to 0.10 (n=10). Good instruction answers (a song with a chorus, worked
    # steps, a SQL query naming its columns twice) exceed those, so the defaults are looser and
    # still catch text pasted twice or stuck in a loop.
    max_duplicate_line_fraction: float = setting(
        0.4,
        "Drop text whose lines (or paragraphs) repeat an earlier one more often than this share "
        "(`duplicate_lines`; Gopher: 0.3; 0: off).",
    )
    max_duplicate_line_char_fraction: float = setting(0.3, "The same by characters (Gopher: 0.2; 0: off).")
    max_top_ngram_char_fraction: Mapping[int, float] = setting(
        factory=lambda: {2: 0.30, 3: 0.27, 4: 0.24},
        help="n -> limit: drop text where the most frequent word n-gram covers a larger share of the "
        "characters (`top_ngram_repetition`; Gopher: {2: 0.20, 3: 0.18, 4: 0.16}).",
    )
    max_duplicate_ngram_char_fraction: Mapping[int, float] = setting(
        factory=lambda: {5: 0.6, 10: 0.5},
        help="n -> limit: drop text where repeated word n-grams cover a larger share of the characters "
        "(`duplicate_ngram_repetition`; Gopher: 0.15 for n=5 down to 0.10 for n=10).",
    )


QualityCheck = Callable[[TextStats, bool], "Drop | None"]


def quality_checks(settings: Settings) -> list[QualityCheck]:
    """The checks in the order they run; each takes the text's stats and whether the text is the
    response of a supervised record."""
    s = settings

    def word_count(stats: TextStats, supervised: bool) -> Drop | None:
        count = len(stats.words)
        minimum = s.min_words_response if supervised else s.min_words_text
        if count < minimum:
            return Drop("too_few_words", f"{count} words < {minimum}")
        if s.max_words and count > s.max_words:
            return Drop("too_many_words", f"{count} words > {s.max_words}")
        return None

    def mean_word_length(stats: TextStats, supervised: bool) -> Drop | None:
        words = stats.spaced_words
        if len(words) * 2 < len(stats.words):  # mostly an unspaced script: no word lengths to judge
            return None
        mean = sum(len(word) for word in words) / len(words)
        if mean < s.min_mean_word_length or (s.max_mean_word_length and mean > s.max_mean_word_length):
            return Drop("mean_word_length", f"{mean:.2f} outside [{s.min_mean_word_length}, {s.max_mean_word_length}]")
        return None

    def symbol_ratio(stats: TextStats, supervised: bool) -> Drop | None:
        if not s.max_symbol_word_ratio:
            return None
        for symbol, count in (("#", stats.text.count("#")), ("...", sum(stats.text.count(e) for e in ELLIPSES))):
            ratio = count / len(stats.words)
            if ratio > s.max_symbol_word_ratio:
                return Drop("symbol_ratio", f"{symbol!r} per word {ratio:.2f} > {s.max_symbol_word_ratio}")
        return None

    def alpha_words(stats: TextStats, supervised: bool) -> Drop | None:
        share = sum(1 for word in stats.words if _ALPHA.search(word)) / len(stats.words)
        if share < s.min_alpha_word_fraction:
            return Drop("non_alpha_words", f"{share:.2f} of words have a letter < {s.min_alpha_word_fraction}")
        return None

    def line_shapes(stats: TextStats, supervised: bool) -> Drop | None:
        lines = stats.lines
        bullets = sum(1 for line in lines if line.startswith(BULLETS)) / len(lines)
        if s.max_bullet_line_fraction and bullets > s.max_bullet_line_fraction:
            return Drop("bullet_lines", f"{bullets:.2f} of lines start with a bullet > {s.max_bullet_line_fraction}")
        ellipses = sum(1 for line in lines if line.endswith(ELLIPSES)) / len(lines)
        if s.max_ellipsis_line_fraction and ellipses > s.max_ellipsis_line_fraction:
            return Drop(
                "ellipsis_lines", f"{ellipses:.2f} of lines end with an ellipsis > {s.max_ellipsis_line_fraction}"
            )
        return None

    def repeated_lines(stats: TextStats, supervised: bool) -> Drop | None:
        for unit, items in (("lines", stats.lines), ("paragraphs", stats.paragraphs)):
            by_count, by_chars = repeated_fraction(items)
            if s.max_duplicate_line_fraction and by_count > s.max_duplicate_line_fraction:
                return Drop("duplicate_lines", f"{by_count:.2f} of {unit} repeat > {s.max_duplicate_line_fraction}")
            if s.max_duplicate_line_char_fraction and by_chars > s.max_duplicate_line_char_fraction:
                return Drop(
                    "duplicate_lines",
                    f"{by_chars:.2f} of characters in repeated {unit} > {s.max_duplicate_line_char_fraction}",
                )
        return None

    def repeated_ngrams(stats: TextStats, supervised: bool) -> Drop | None:
        words = [word.casefold() for word in stats.words]
        for n, limit in sorted(s.max_top_ngram_char_fraction.items()):
            share = top_ngram_char_fraction(words, n)
            if limit and share > limit:
                return Drop(
                    "top_ngram_repetition", f"most frequent {n}-gram covers {share:.2f} of characters > {limit}"
                )
        for n, limit in sorted(s.max_duplicate_ngram_char_fraction.items()):
            share = duplicate_ngram_char_fraction(words, n)
            if limit and share > limit:
                return Drop(
                    "duplicate_ngram_repetition", f"repeated {n}-grams cover {share:.2f} of characters > {limit}"
                )
        return None

    def judged(check: QualityCheck, on_responses: bool) -> QualityCheck:
        def guarded(stats: TextStats, supervised: bool) -> Drop | None:
            if len(stats.words) < max(1, s.judge_min_words) or (supervised and not on_responses):
                return None
            return check(stats, supervised)

        return guarded

    shapes = s.shape_checks_on_responses
    return [
        word_count,
        *(judged(check, shapes) for check in (mean_word_length, symbol_ratio, alpha_words, line_shapes)),
        *(judged(check, True) for check in (repeated_lines, repeated_ngrams)),
    ]


def quality_drop(text: str, supervised: bool, checks: Sequence[QualityCheck]) -> Drop | None:
    """The first heuristic that objects to `text`, or None."""
    stats = TextStats(text)
    return next((drop for check in checks if (drop := check(stats, supervised))), None)


def quality_filter(settings: Settings) -> Filter:
    """Drop a record whose response (or unsupervised text) fails a Gopher-style heuristic; a
    conversation's assistant turns are each judged as a response."""
    checks = quality_checks(settings)

    def check(record: Record) -> Drop | None:
        for number, response in enumerate(record.responses, start=1):
            if drop := quality_drop(response, record.is_supervised, checks):
                return Drop(drop.reason, f"assistant turn {number}: {drop.detail}") if record.is_chat else drop
        return None

    return check


def from_settings(settings: Settings) -> Filter:
    return quality_filter(settings)
