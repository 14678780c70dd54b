"""Language identification: keep the languages listed, drop the rest (reason `language`).

The detector is py3langid (a naive Bayes model over byte n-grams shipped inside the wheel, so
nothing is downloaded; datatrove's `LanguageFilter` does the same with a fastText model), loaded
once per process. Its probabilities are normalized, so `score` is the share of belief in the
detected language. On a few words it guesses (`"fog."` reads Hungarian, `"Interrogative."`
Latin, with scores under 0.2), so a text shorter than `min_bytes` is kept unjudged, and a text
is dropped only when the detector is confident (`min_score`) that it is in a language not
listed. Length counts UTF-8 bytes, what the detector reads: a Chinese character (3 bytes) says
about as much as a short English word, so a character count would leave most short Chinese
answers unjudged. Text with no linguistic content (`zxx`: numbers, code) is never dropped: it is
not in another language.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from llm_pipeline.records import Record
from llm_pipeline.setting import setting
from llm_pipeline.stages.filtered.filters.base import Drop, Filter

LIBRARIES = ("py3langid",)
"""Its version decides verdicts, so it enters the analysis cache key."""
NO_LANGUAGE = frozenset({"zxx", "und"})
"""Labels that name no language: never a reason to drop."""


@dataclass(frozen=True)
class Settings:
    """Language filter (py3langid) on the response of a supervised record, or the whole unsupervised text."""

    # Defaults measured on the public sample data (benchmarks/language_filter.py): no English
    # answer of alpaca_en_demo or identity is dropped, 726 of 791 Chinese, German and French ones are.
    languages: tuple[str, ...] = setting(
        ("en",),
        "ISO 639-1 codes of the languages kept (`[en, de]`); a confidently detected other language is dropped "
        "(`language`, detail: the language and its score). Empty: every language is kept (the filter is off).",
    )
    min_bytes: int = setting(
        40,
        "Texts shorter than this many UTF-8 bytes (about 40 Latin letters or 13 Chinese characters) are kept "
        "unjudged: on a few words the detector guesses.",
    )
    # 0.7: English keyword lists ("modem port dhcp laptop firewall") read as Nigerian Pidgin or
    # Latin at up to 0.63; Chinese answers split their belief with Wu and Cantonese (zh at 0.66).
    min_score: float = setting(
        0.7,
        "Drop only when the detector's probability for the detected language is at least this (0 to 1).",
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"language min_score must be between 0 and 1, got {self.min_score}")
        if self.min_bytes < 0:
            raise ValueError(f"language min_bytes must be >= 0, got {self.min_bytes}")


@functools.cache
def identifier():
    """py3langid's identifier with normalized probabilities, loaded once per process (about a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> tuple[str, float]:
    """(language code, probability) of `text`, e.g. ("de", 1.0)."""
    language, score = identifier().classify(text)
    return language, float(score)


def judged_length(text: str) -> int:
    """The length `min_bytes` is compared with: UTF-8 bytes of the stripped text."""
    return len(text.strip().encode("utf-8", errors="surrogatepass"))


def language_filter(languages: Sequence[str], min_bytes: int = 40, min_score: float = 0.7) -> Filter:
    """Drop a record whose response (a conversation's assistant turns, or the unsupervised text) is
    confidently in a language not in `languages`."""
    kept = frozenset(languages)

    def check(record: Record) -> Drop | None:
        # A conversation's assistant turns together: one "Yes." alone is too short to judge.
        text = "\n\n".join(record.responses)
        if judged_length(text) < min_bytes:
            return None
        language, score = detect(text)
        if language in kept or language in NO_LANGUAGE or score < min_score:
            return None
        return Drop("language", f"{language} (score {score:.2f}), not in {sorted(kept)}")

    return check


def from_settings(settings: Settings) -> Filter | None:
    """The filter (None when `languages` is empty); an unknown code fails here, before any record is read."""
    if not settings.languages:
        return None
    unknown = sorted(set(settings.languages) - set(identifier().labels))
    if unknown:
        raise ValueError(f"unknown language codes {unknown}; py3langid knows ISO 639-1 codes such as 'en', 'de'")
    return language_filter(settings.languages, settings.min_bytes, settings.min_score)
