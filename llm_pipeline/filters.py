"""Small predicates that keep a record or name why it goes, and the one place that counts them.

Each filter returns None to keep a record, or a reason string to drop it. Phrase filters look
only at the response side: a prompt may ask "Are you trained by OpenAI?" and still have a
clean answer worth keeping.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from llm_pipeline.dedup import ExactDeduplicator
from llm_pipeline.document import Record

Filter = Callable[[Record], "str | None"]

# Refusals and AI self-references that mark machine-generated answers. Kept narrow on purpose:
# every entry is a phrase a human-written answer almost never contains.
NARROW_PHRASES: tuple[str, ...] = (
    "as an ai language model",
    "as a language model",
    "as an ai assistant",
    "as an ai,",
    "i'm an ai language model",
    "i am an ai language model",
    "i cannot fulfill that request",
    "i cannot fulfill this request",
    "i can't fulfill that request",
    "i'm sorry, but as an ai",
    "i am sorry, but as an ai",
    "my knowledge cutoff",
    "my knowledge cut-off",
    "as of my last knowledge update",
    "as of my training data",
    "september 2021",
    "i do not have personal opinions",
    "i don't have personal opinions",
    "i do not have personal beliefs",
    "i don't have personal beliefs",
    "openai's content policy",
    "against my programming",
)


def phrase_filter(phrases: Sequence[str]) -> Filter:
    """Drop a record whose response contains one of `phrases` (case-insensitive, spacing-tolerant)."""
    if not phrases:
        return lambda record: None
    pattern = re.compile("|".join(re.escape(_squash(phrase)) for phrase in phrases))

    def check(record: Record) -> str | None:
        match = pattern.search(_squash(record.response))
        return f"synthetic_phrase: {match.group(0)}" if match else None

    return check


def length_filter(min_chars: int, max_chars: int) -> Filter:
    """Drop records whose response is shorter or longer than the bounds (in characters)."""

    def check(record: Record) -> str | None:
        length = len(record.response.strip())
        if length < min_chars:
            return "too_short"
        if max_chars and length > max_chars:
            return "too_long"
        return None

    return check


def _squash(text: str) -> str:
    """Lower-case and single-space, so "As an  AI\nlanguage model" still matches."""
    return " ".join(text.lower().replace("\u2019", "'").split())


@dataclass(frozen=True)
class FilterSettings:
    phrases: tuple[str, ...] = NARROW_PHRASES
    min_chars: int = 20
    max_chars: int = 20_000
    dedup_exact: bool = True


@dataclass
class FilterReport:
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.kept + sum(self.dropped.values())


@dataclass(frozen=True)
class Decision:
    record: Record
    reason: str | None  # None: kept
    detail: str = ""


def apply_filters(records: Iterable[Record], settings: FilterSettings, report: FilterReport) -> Iterator[Decision]:
    """A decision for every record, in order: the first filter that objects names the reason.

    Duplicates are checked last, so a record dropped for its content never becomes the kept
    representative of a duplicate group.
    """
    filters = [length_filter(settings.min_chars, settings.max_chars), phrase_filter(settings.phrases)]
    dedup = ExactDeduplicator() if settings.dedup_exact else None
    for record in records:
        reason = next((verdict for check in filters if (verdict := check(record))), None)
        detail = ""
        if reason is None and dedup is not None and (original := dedup.original_of(record)) is not None:
            reason, detail = "exact_duplicate", f"duplicate of {original}"
        if reason is None:
            report.kept += 1
        else:
            report.dropped[reason.split(":")[0]] += 1
        yield Decision(record, reason, detail)
