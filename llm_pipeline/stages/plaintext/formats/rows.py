"""What every format reader shares: the rejection it writes and the column mapping of its rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

from llm_pipeline.records import PREVIEW_CHARS, Record, Rejection
from llm_pipeline.stages.plaintext.chat import ChatMapping, ChatSettings, Refusal
from llm_pipeline.stages.plaintext.columns import ColumnMapping, mapping_for
from llm_pipeline.stages.plaintext.report import IngestReport, Item

STAGE = "plaintext"


# Rows read before a CSV file's, a SQL table's or a query's mapping is inferred.
MAPPING_SAMPLE_ROWS = 50


def rejection(reason: str, source: str, preview: object = "", detail: str = "") -> Rejection:
    return Rejection(stage=STAGE, reason=reason, source=source, preview=str(preview)[:PREVIEW_CHARS], detail=detail)


def map_rows(
    rows: Iterator[dict],
    name: str,
    configured: ColumnMapping | None,
    report: IngestReport,
    fmt: str,
    chat: ChatSettings | None = None,
) -> Iterator[Item]:
    """Map the rows of one CSV or Parquet file or query with the configured mapping, or one inferred
    from the first rows (with `chat`, a conversation's when they hold one)."""
    sample = list(itertools.islice(rows, MAPPING_SAMPLE_ROWS))
    mapping = mapping_for(sample, configured, chat)
    report.mappings[name] = mapping.describe() if mapping else "none"
    if mapping is None:
        if sample:
            total = len(sample) + sum(1 for _ in rows)
            yield rejection("no_text_column", name, detail=f"{total} rows; columns: {list(sample[0])}")
        return
    for number, row in enumerate(itertools.chain(sample, rows), start=1):
        yield mapped(mapping, row, f"{name} row {number}", fmt)


def mapped(mapping: ColumnMapping | ChatMapping, row: Mapping[str, object], source: str, fmt: str) -> Item:
    result = mapping.to_record(row, source, fmt)
    if isinstance(result, Record):
        return result
    reason, detail = result if isinstance(result, Refusal) else (result, "")
    return rejection(reason, source, preview={key: row[key] for key in list(row)[:4]}, detail=detail)


def drain(errors: list[Rejection]) -> Iterator[Rejection]:
    while errors:
        yield errors.pop(0)
