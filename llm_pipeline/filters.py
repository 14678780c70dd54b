"""Small predicates that keep a record or name why it goes, and the one place that counts them.

Each filter returns None to keep a record, or a `Drop` with the reason and a detail. Content
filters read the response side only: a prompt may ask "Are you trained by OpenAI?" and still
have a clean answer worth keeping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from llm_pipeline.dedup import ExactDeduplicator, Match, NearDeduplicator, NearDuplicateSettings
from llm_pipeline.document import Record
from llm_pipeline.drop import Drop
from llm_pipeline.phrases import NARROW_PHRASES, PhraseMatcher
from llm_pipeline.pii import redact
from llm_pipeline.quality import QualitySettings, quality_checks, quality_drop

Filter = Callable[[Record], "Drop | None"]


def phrase_filter(phrases: Sequence[str]) -> Filter:
    """Drop a record whose response contains one of `phrases` (case-, apostrophe- and spacing-tolerant)."""
    matcher = PhraseMatcher(phrases)

    def check(record: Record) -> Drop | None:
        hit = matcher.find(record.response)
        return Drop("synthetic_phrase", f"response contains {hit!r}") if hit else None

    return check


def quality_filter(settings: QualitySettings) -> Filter:
    """Drop a record whose response (or unsupervised text) fails a Gopher-style heuristic."""
    checks = quality_checks(settings)
    return lambda record: quality_drop(record.response, record.is_supervised, checks)


def redacted(record: Record, counts: Counter) -> Record:
    """The record with personal data replaced by placeholders in every text field."""
    return replace(
        record,
        **{name: redact(value, counts) for name in ("text", "input", "output") if (value := getattr(record, name))},
    )


@dataclass(frozen=True)
class FilterSettings:
    phrases: tuple[str, ...] = NARROW_PHRASES
    quality: QualitySettings = field(default_factory=QualitySettings)
    redact_pii: bool = False
    dedup_exact: bool = True
    near_duplicates: NearDuplicateSettings | None = field(default_factory=NearDuplicateSettings)


@dataclass
class FilterReport:
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    redactions: Counter = field(default_factory=Counter)  # placeholders written, by kind
    records_redacted: int = 0
    duplicate_groups: Counter = field(default_factory=Counter)  # "kept id (source)" -> members dropped

    @property
    def total(self) -> int:
        return self.kept + sum(self.dropped.values())


@dataclass(frozen=True)
class Decision:
    record: Record  # after redaction, when it is on
    reason: str | None  # None: kept
    detail: str = ""


def apply_filters(records: Iterable[Record], settings: FilterSettings, report: FilterReport) -> Iterator[Decision]:
    """A decision for every record, in order: the first filter that objects names the reason.

    Duplicates are checked last, so a record dropped for its content never becomes the kept
    representative of a duplicate group; exact duplicates before near ones, since they are cheaper.
    """
    # Quality first: its word-count bounds reject a 50 MB record at once, before the phrase search reads it all.
    filters = [quality_filter(settings.quality), phrase_filter(settings.phrases)]
    exact = ExactDeduplicator() if settings.dedup_exact else None
    near = NearDeduplicator(settings.near_duplicates) if settings.near_duplicates else None
    for record in records:
        if settings.redact_pii:
            before = sum(report.redactions.values())
            record = redacted(record, report.redactions)
            report.records_redacted += sum(report.redactions.values()) > before
        drop = next((verdict for check in filters if (verdict := check(record))), None)
        if drop is None:
            drop = _duplicate_drop(record, exact, near)
        if drop is None:
            report.kept += 1
            yield Decision(record, None)
        else:
            report.dropped[drop.reason] += 1
            if drop.group:
                report.duplicate_groups[drop.group] += 1
            yield Decision(record, drop.reason, drop.detail)


def _duplicate_drop(record: Record, exact: ExactDeduplicator | None, near: NearDeduplicator | None) -> Drop | None:
    if exact is not None and (match := exact.original_of(record)) is not None:
        return Drop("exact_duplicate", match.describe("duplicate"), match.group)
    match = near.original_of(record) if near is not None else None
    if exact is not None:  # a later exact copy joins the same group, named after the kept record
        exact.remember(record, match or Match(record.id, record.source))
    return Drop("near_duplicate", match.describe("near-duplicate"), match.group) if match else None
