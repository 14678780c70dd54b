"""Parquet files (how Hugging Face datasets are downloaded): read in record batches with pyarrow,
every row through the column mapping; a file that is not Parquet is quarantined whole."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.chat import ChatSettings
from llm_pipeline.stages.plaintext.columns import ColumnMapping
from llm_pipeline.stages.plaintext.formats.rows import map_rows, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item


@dataclass(frozen=True)
class Settings:
    """How the Parquet files under raw/parquet/ are read."""

    columns: ColumnMapping | None = setting(
        None,
        "Column mapping for every Parquet file. Unset: inferred per file from its first rows and reported in metadata.",
    )
    batch_size: int = setting(1024, "Rows read per record batch: memory stays flat however large the file.")
    chat: ChatSettings = setting(
        factory=ChatSettings,
        help="Conversations: a column holding lists of turns (list<struct>) under `messages` or `conversations` (OpenAI "
        "`role`/`content`, ShareGPT `from`/`value`) becomes a chat record; speaker names map to system, user, "
        "assistant.",
    )

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"parquet batch_size must be at least 1, not {self.batch_size}")


def read(path: Path, name: str, settings: Settings, report: IngestReport) -> Iterator[Item]:
    """Records of every row; sources read `<name> row N`. Binary cells are never decoded as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.stat().st_size:
        yield rejection("empty_file", name)
        return
    try:
        with pq.ParquetFile(path) as parquet:
            rows = (row for batch in parquet.iter_batches(batch_size=settings.batch_size) for row in batch.to_pylist())
            yield from map_rows(rows, name, settings.columns, report, "parquet", settings.chat)
    except (pa.ArrowException, OSError) as error:
        # Not Parquet, or damaged: the rows read before the failure are kept.
        yield rejection("unreadable_file", name, detail=f"{type(error).__name__}: {error}")
