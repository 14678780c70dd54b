"""What the plaintext stage did, per format, reason, file and table: the asset's metadata."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from llm_pipeline.records import Record, Rejection

Item = Record | Rejection


@dataclass
class IngestReport:
    """What ingestion did, for the asset's metadata."""

    records: Counter = field(default_factory=Counter)  # per format
    rejected: Counter = field(default_factory=Counter)  # per reason
    files: Counter = field(default_factory=Counter)  # per format (a database counts as one)
    mappings: dict[str, str] = field(default_factory=dict)  # file, file:table or db:name -> mapping used
    skipped_tables: dict[str, int] = field(default_factory=dict)  # file:table -> rows not mapped

    def merge(self, other: IngestReport) -> None:
        self.records.update(other.records)
        self.rejected.update(other.rejected)
        self.files.update(other.files)
        self.mappings.update(other.mappings)
        self.skipped_tables.update(other.skipped_tables)

    def count(self, item: Item, fmt: str) -> Item:
        if isinstance(item, Record):
            self.records[fmt] += 1
        else:
            self.rejected[item.reason.split(":")[0]] += 1
        return item
