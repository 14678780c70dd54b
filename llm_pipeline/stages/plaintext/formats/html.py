"""HTML pages: the main text of each page, one unsupervised record per file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llm_pipeline.records import Record
from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.formats.rows import rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item

# The extraction modes of `llm_pipeline.parse.html.extract_text` (not imported here: bs4 is heavy).
HtmlMode = Literal["main", "bs4", "full"]


@dataclass(frozen=True)
class Settings:
    """How the HTML pages under raw/html/ are read."""

    mode: HtmlMode = setting(
        "main",
        "HTML extraction: `main` (trafilatura's main text; our `bs4` rules when it finds none), "
        "`bs4` (our BeautifulSoup rules: semantic tags, roles, class words) or `full` (all visible text).",
    )
    selector: str | None = setting(
        None, "CSS selector of the content element (e.g. `div.post-body`); overrides `mode`."
    )


def read(path: Path, name: str, settings: Settings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.html import extract_text

    page = path.read_bytes()
    if not page.strip():
        yield rejection("empty_file", name)
        return
    try:
        text = extract_text(page, mode=settings.mode, selector=settings.selector)
    except ValueError as error:
        yield rejection("not_html", name, preview=page[:80], detail=str(error))
        return
    report.mappings[name] = f"html ({settings.selector or settings.mode})"
    yield Record.unsupervised(text, name, "html") if text.strip() else rejection("empty_text", name)
