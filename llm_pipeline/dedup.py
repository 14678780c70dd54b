"""Duplicate detection across all sources: the first record of a group is the one kept."""

from __future__ import annotations

import hashlib

from llm_pipeline.document import Record


def normalized_key(record: Record) -> str:
    """Hash of the record's content with case and whitespace folded.

    Two records that differ only in spacing or capitalisation teach the model the same thing.
    """
    parts = (record.text,) if record.text is not None else (record.input, record.output)
    folded = "\x1f".join(" ".join((part or "").casefold().split()) for part in parts)
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


class ExactDeduplicator:
    """Remembers one 32-byte key per distinct record; the input order decides the representative."""

    def __init__(self) -> None:
        self._first_id: dict[bytes, str] = {}

    def original_of(self, record: Record) -> str | None:
        """The id of the earlier record this one duplicates, or None (and it becomes the original)."""
        key = bytes.fromhex(normalized_key(record))
        original = self._first_id.get(key)
        if original is None:
            self._first_id[key] = f"{record.id} ({record.source})"
        return original
