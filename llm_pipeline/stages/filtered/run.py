"""plaintext records -> the filtered stage output and its rejections: the stage's work.

Every record goes through the filter chain (`apply.apply_filters`): its per-record analysis
(redaction, content filters, signatures) is read from cache/filtered when the record, the
settings and the code are unchanged; the duplicate search runs over every record again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.stages.filtered.analysis import analysis_cache
from llm_pipeline.stages.filtered.apply import FilterReport, apply_filters
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import iter_records, load_records, save_records, save_rejections

STAGE = "filtered"


@dataclass
class FilterResult:
    """What a run wrote and did: the asset's metadata."""

    output: Path
    rejected_path: Path
    records_in: int
    report: FilterReport  # kept, dropped by reason, redactions, duplicate groups
    dropped: list[Rejection]  # every dropped record with its reason and detail, in source order
    analysed: int  # records whose analysis was computed this run
    from_cache: int  # records whose analysis came from cache/filtered


def run(
    layout: DataLayout, settings: FilterSettings | None = None, log: Callable[[str], None] = lambda message: None
) -> FilterResult:
    """Filter `layout.stage("plaintext")` into `layout.stage("filtered")`, the dropped records with
    their reasons into `layout.rejected("filtered")`."""
    settings = settings or FilterSettings()
    source = load_records(layout.stage("plaintext"))
    report = FilterReport()
    dropped: list[Rejection] = []
    cache = analysis_cache(layout.cache(STAGE), settings)

    def kept_records():
        for decision in apply_filters(iter_records(source), settings, report, cache):
            if decision.reason is None:
                yield decision.record
            else:
                dropped.append(Rejection.of_record(decision.record, STAGE, decision.reason, decision.detail))

    save_records(kept_records(), layout.stage(STAGE))
    save_rejections(dropped, layout.rejected(STAGE))
    cache.save()
    log(
        f"kept {report.kept} of {len(source)} records; dropped {dict(report.dropped)}; "
        f"{cache.misses} records analysed, {cache.hits} unchanged ones read from the cache"
    )
    return FilterResult(
        output=layout.stage(STAGE),
        rejected_path=layout.rejected(STAGE),
        records_in=len(source),
        report=report,
        dropped=dropped,
        analysed=cache.misses,
        from_cache=cache.hits,
    )
