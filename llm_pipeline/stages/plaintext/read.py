"""One raw file -> its records and rejections, through the format module its folder names
(decompressed first when it is compressed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.stages.plaintext.compressed import CompressedFileError, decompressed
from llm_pipeline.stages.plaintext.formats import REGISTRY
from llm_pipeline.stages.plaintext.formats.rows import STAGE, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item
from llm_pipeline.stages.plaintext.settings import PlaintextSettings


def read_raw_file(path: Path, name: str, fmt: str, settings: PlaintextSettings, report: IngestReport) -> Iterator[Item]:
    """Records and rejections of one raw file; `name` is how sources refer to it. The format's
    reader gets its own part of `settings` (`settings.<fmt>`)."""
    report.files[fmt] += 1
    produced = False
    try:
        with decompressed(path) as (readable, _):  # gzip, bz2, xz, zstd: parsed as their text
            for item in REGISTRY[fmt].read(readable, name, getattr(settings, fmt), report):
                produced = True
                yield report.count(item, fmt)
    except CompressedFileError as error:
        produced = True
        yield report.count(Rejection(stage=STAGE, reason=error.reason, source=name, detail=str(error)), fmt)
    except (OSError, ValueError, UnicodeError) as error:
        # A failure the parser could not attribute to one row: the rest of the file is quarantined whole.
        produced = True
        yield report.count(Rejection(stage=STAGE, reason="unreadable_file", source=name, detail=str(error)), fmt)
    if not produced:
        # A header without rows, blank lines, a binary file or a schema-only dump: say so rather than vanish.
        skipped = {table: rows for table, rows in report.skipped_tables.items() if table.startswith(f"{name}:")}
        detail = f"rows in tables without a text column: {skipped}" if skipped else f"no {fmt} row, line or text found"
        yield report.count(rejection("no_records", name, detail=detail), fmt)
