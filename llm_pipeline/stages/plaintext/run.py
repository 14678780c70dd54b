"""Raw files and live databases -> the plaintext stage output and its quarantine: the stage's work.

Every raw file under a registered format's folder is parsed, or read from the parse cache when
its bytes, name, format settings and the parsing code are unchanged; every configured database
query is read anew. Records and rejections are saved in source order, and cache entries no run
uses any more are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.stages.plaintext.cache import ParsedFile, ParsedFileCache, ingest_files, read_parsed, write_parsed
from llm_pipeline.stages.plaintext.database import read_database
from llm_pipeline.stages.plaintext.formats import format_of, scan_raw_folder
from llm_pipeline.stages.plaintext.formats.rows import STAGE, rejection
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings
from llm_pipeline.storage.atomic import scratch_dir
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.raw_files import HIDDEN, RawEntry
from llm_pipeline.storage.stage_output import RECORD_FEATURES, REJECTION_FEATURES, save_tables


@dataclass
class PlaintextResult:
    """What a run wrote and did: the asset's metadata."""

    output: Path
    kept: int  # records saved
    rejected: int  # rejections saved to rejected/plaintext
    report: IngestReport
    parsed: list[str]  # raw files parsed this run
    cached: list[str]  # raw files read from the parse cache
    cache_entries_removed: int
    rejections: list[Rejection]  # every rejection, in source order
    ignored: list[RawEntry]  # entries under raw/ not read by design (hidden, outside a format folder)


def run(
    layout: DataLayout, settings: PlaintextSettings | None = None, log: Callable[[str], None] = lambda message: None
) -> PlaintextResult:
    """Parse every raw file (or reuse its cached parse) and every configured database into
    `layout.stage("plaintext")`, rejections into `layout.rejected("plaintext")`."""
    settings = settings or PlaintextSettings()
    cache = ParsedFileCache(layout.cache(STAGE), settings)

    def log_file(name: str, parsed: ParsedFile, from_cache: bool) -> None:
        if not from_cache:  # cached files are summed up below: one line each would bury the news
            log(f"{name}: parsed, {parsed.records.num_rows} records, {parsed.rejections.num_rows} rejected")

    listing = scan_raw_folder(layout.raw(), layout.root)
    files = [(path, name, format_of(name)) for path, name in listing.files]
    ingested = ingest_files(files, settings, cache, on_file=log_file)
    log(f"{len(ingested.parsed)} raw files parsed, {len(ingested.cached)} unchanged read from the cache")
    for entry in listing.ignored:
        if entry.reason != HIDDEN:  # .gitkeep and its kind are expected; a file in the wrong folder is news
            log(f"not read: raw/{entry.name} ({entry.reason}: {entry.detail})")
    with scratch_dir(layout.cache(STAGE) / "databases") as scratch:
        if listing.refused:
            # Links out of the data directory, dangling links, FIFOs: quarantined, never opened.
            report = IngestReport()
            refused = (
                report.count(rejection(entry.reason, entry.name, detail=entry.detail), format_of(entry.name))
                for entry in listing.refused
            )
            write_parsed(scratch / "refused", refused, report)
            part = read_parsed(scratch / "refused")
            log(f"{part.rejections.num_rows} raw entries refused: {', '.join(e.name for e in listing.refused[:5])}")
            ingested.report.merge(part.report)
            ingested.parts.append(part)
        for number, database in enumerate(settings.databases):  # live queries: read on every run
            report = IngestReport()
            write_parsed(scratch / str(number), read_database(database, report), report)
            part = read_parsed(scratch / str(number))
            log(f"db:{database.name}: {part.records.num_rows} records, {part.rejections.num_rows} rejected")
            ingested.report.merge(part.report)
            ingested.parts.append(part)
        kept = save_tables([part.records for part in ingested.parts], RECORD_FEATURES, layout.stage(STAGE))
        rejected = save_tables([part.rejections for part in ingested.parts], REJECTION_FEATURES, layout.rejected(STAGE))
        rejections = [Rejection(**row) for part in ingested.parts for row in part.rejections.to_pylist()]
    return PlaintextResult(
        output=layout.stage(STAGE),
        kept=kept,
        rejected=rejected,
        report=ingested.report,
        parsed=ingested.parsed,
        cached=ingested.cached,
        cache_entries_removed=cache.prune(ingested.used_keys),
        rejections=rejections,
        ignored=listing.ignored,
    )
