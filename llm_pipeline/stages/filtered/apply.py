"""The filter chain over a stream of records: a decision for each, the duplicate search last.

Each filter returns None to keep a record, or a `Drop` with the reason and a detail. Content
filters read the response side only (a conversation's assistant turns): a prompt may ask "Are
you trained by OpenAI?" and still have a clean answer worth keeping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from llm_pipeline.records import Record
from llm_pipeline.stages.filtered.analysis import Analyser, Analysis, analysis_from_row, analysis_to_row
from llm_pipeline.stages.filtered.dedup import (
    ExactDeduplicator,
    Match,
    NearDeduplicator,
)
from llm_pipeline.stages.filtered.filters.base import Drop
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.storage.row_cache import RowCache


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


def apply_filters(
    records: Iterable[Record], settings: FilterSettings, report: FilterReport, cache: RowCache | None = None
) -> Iterator[Decision]:
    """A decision for every record, in order: the first filter that objects names the reason.

    Duplicates are checked last, so a record dropped for its content never becomes the kept
    representative of a duplicate group; exact duplicates before near ones, since they are cheaper.
    With a `cache` (from `analysis_cache`), the per-record analysis of an unchanged record is
    read back instead of computed; only the duplicate search runs over every record again.
    """
    analyse = Analyser(settings)
    exact = ExactDeduplicator() if settings.dedup_exact else None
    near = NearDeduplicator(settings.near) if settings.near else None
    for record in records:
        row = cache.get(record.id) if cache is not None else None
        if row is not None:
            analysis = analysis_from_row(row)
        else:
            analysis = analyse(record)
            if cache is not None:
                cache.put(record.id, analysis_to_row(analysis))
        if analysis.redacted:
            record = replace(record, **analysis.redacted)
        if analysis.redactions:
            report.redactions.update(analysis.redactions)
            report.records_redacted += 1
        drop = analysis.drop or _duplicate_drop(record, exact, near, analysis)
        if drop is None:
            report.kept += 1
            yield Decision(record, None)
        else:
            report.dropped[drop.reason] += 1
            if drop.group:
                report.duplicate_groups[drop.group] += 1
            yield Decision(record, drop.reason, drop.detail)


def _duplicate_drop(
    record: Record, exact: ExactDeduplicator | None, near: NearDeduplicator | None, analysis: Analysis
) -> Drop | None:
    if exact is not None and (match := exact.original_of(record, analysis.exact_key)) is not None:
        return Drop("exact_duplicate", match.describe("duplicate"), match.group)
    match = near.original_of(record, analysis.signatures) if near is not None else None
    if exact is not None:  # a later exact copy joins the same group, named after the kept record
        exact.remember(record, match or Match(record.id, record.source), analysis.exact_key)
    return Drop("near_duplicate", match.describe("near-duplicate"), match.group) if match else None
