"""HTML pages: the main text of each page, one unsupervised record per file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from llm_pipeline.records import Record
from llm_pipeline.stages.plaintext.formats.rows import rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item
from llm_pipeline.stages.plaintext.settings import IngestSettings


def read(path: Path, name: str, settings: IngestSettings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.html import extract_text

    page = path.read_bytes()
    if not page.strip():
        yield rejection("empty_file", name)
        return
    try:
        text = extract_text(page, mode=settings.html_mode, selector=settings.html_selector)
    except ValueError as error:
        yield rejection("not_html", name, preview=page[:80], detail=str(error))
        return
    report.mappings[name] = f"html ({settings.html_selector or settings.html_mode})"
    yield Record.unsupervised(text, name, "html") if text.strip() else rejection("empty_text", name)
