"""The settings of the plaintext stage: how each raw format is read, and which databases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from llm_pipeline.stages.plaintext.columns import ColumnMapping

DEFAULT_DATABASE_CHUNK_SIZE = 1000


# The extraction modes of `llm_pipeline.parse.html.extract_text` (not imported here: bs4 is heavy).
HtmlMode = Literal["main", "bs4", "full"]


@dataclass(frozen=True)
class DatabaseSource:
    """A query against a live database; `url`, or `url_env` naming the variable that holds it."""

    name: str
    query: str
    url: str | None = None
    url_env: str | None = None
    mapping: ColumnMapping | None = None  # None: inferred from the first rows
    chunk_size: int = DEFAULT_DATABASE_CHUNK_SIZE


@dataclass(frozen=True)
class IngestSettings:
    html_mode: HtmlMode = "main"
    html_selector: str | None = None
    csv_mapping: ColumnMapping | None = None
    csv_delimiter: str | None = None
    csv_encoding: str | None = None
    # {table: mapping}; when set, only these tables are read.
    sql_tables: Mapping[str, ColumnMapping] = field(default_factory=dict)
    jsonl_mapping: ColumnMapping | None = None
    databases: tuple[DatabaseSource, ...] = ()
