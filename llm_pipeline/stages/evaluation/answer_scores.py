"""A generated answer against the expected one: exact match and token F1, SQuAD-style.

Exact match compares the two after `normalize_answer`: surrounding whitespace stripped, case
folded, every run of whitespace one space, then punctuation at either end dropped ("Paris." and
" paris" match; "Paris, France" and "Paris France" do not). Token F1 is the harmonic mean of
precision and recall over the bag of words both share (SQuAD's measure), the words being
`text.normalized_words`: case folded, punctuation removed, a character of an unspaced script a
word of its own. Unlike SQuAD, articles are kept: the measure is not English-only.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

from llm_pipeline.text import normalize, normalized_words


@dataclass(frozen=True)
class AnswerScore:
    exact_match: float
    """1.0 when the normalized answers are equal, else 0.0."""
    f1: float


def normalize_answer(text: str) -> str:
    """Stripped, case folded, whitespace collapsed, punctuation at either end dropped."""
    folded = normalize(text)
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def token_f1(prediction: str, expected: str) -> float:
    """Bag-of-words F1 of the two answers' words; two answers without words agree (1.0)."""
    predicted, wanted = normalized_words(prediction), normalized_words(expected)
    if not predicted or not wanted:
        return float(predicted == wanted)
    shared = sum((Counter(predicted) & Counter(wanted)).values())
    if not shared:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(wanted)
    return 2 * precision * recall / (precision + recall)


def score_answer(prediction: str, expected: str) -> AnswerScore:
    return AnswerScore(
        exact_match=float(normalize_answer(prediction) == normalize_answer(expected)),
        f1=token_f1(prediction, expected),
    )


@dataclass(frozen=True)
class ScoredAnswer:
    """One eval-file item: the prompt, the expected answer, each model's answer and its score."""

    line: int
    prompt: str
    expected: str
    base: str
    tuned: str
    base_score: AnswerScore
    tuned_score: AnswerScore


@dataclass(frozen=True)
class AnswerScores:
    answers: list[ScoredAnswer]

    def mean(self, model: str, metric: str) -> float:
        """The mean `metric` (exact_match | f1) of `model` (base | tuned) over every answer."""
        values = [getattr(getattr(answer, f"{model}_score"), metric) for answer in self.answers]
        return sum(values) / len(values) if values else 0.0

    def summary(self) -> dict[str, dict[str, float]]:
        """Means per model, and tuned minus base."""
        means = {model: {metric: self.mean(model, metric) for metric in METRICS} for model in ("base", "tuned")}
        return {**means, "delta": {metric: means["tuned"][metric] - means["base"][metric] for metric in METRICS}}


METRICS = ("exact_match", "f1")


def score_answers(items, base: list[str], tuned: list[str]) -> AnswerScores:
    """Each item (`eval_file.EvalItem`) with the two models' answers to it, scored."""
    return AnswerScores(
        [
            ScoredAnswer(
                item.line, item.prompt, item.answer, b, t, score_answer(b, item.answer), score_answer(t, item.answer)
            )
            for item, b, t in zip(items, base, tuned, strict=True)
        ]
    )
