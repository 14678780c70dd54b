"""JSONL: one object per line through the key mapping; a line that is not JSON (NaN and Infinity
included), or that holds one key twice with different values, is quarantined with its line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.records import Rejection
from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.chat import ChatSettings
from llm_pipeline.stages.plaintext.columns import ColumnMapping, mapping_for
from llm_pipeline.stages.plaintext.formats.rows import drain, mapped, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item


@dataclass(frozen=True)
class Settings:
    """How the JSON Lines files under raw/jsonl/ are read."""

    fields: ColumnMapping | None = setting(
        None,
        "Key mapping for JSONL objects. Unset: `text`, `input`/`output`, `instruction`/`input`/`output`, "
        "`prompt`/`response`, ... per line.",
    )
    chat: ChatSettings = setting(
        factory=ChatSettings,
        help="Conversations: an object with a list of turns under `messages` or `conversations` (OpenAI "
        "`role`/`content`, ShareGPT `from`/`value`) becomes a chat record; speaker names map to system, user, "
        "assistant.",
    )


def read(path: Path, name: str, settings: Settings, report: IngestReport) -> Iterator[Item]:
    from llm_pipeline.parse.jsonl import iter_objects
    from llm_pipeline.parse.strict_json import DUPLICATE_KEY

    errors: list[Rejection] = []

    def on_error(location: str, reason: str) -> None:
        kind = "duplicate_key" if reason.startswith(DUPLICATE_KEY) else "bad_json_line"
        errors.append(rejection(kind, f"{name} {location}", detail=reason))

    seen_mappings: set[str] = set()
    empty = True
    for line, obj in iter_objects(path, on_error=on_error):
        yield from drain(errors)
        empty = False
        mapping = mapping_for([obj], settings.fields, settings.chat)
        source = f"{name} line {line}"
        if mapping is None:
            yield rejection("no_text_fields", source, preview=obj, detail=f"keys: {sorted(obj)}")
            continue
        seen_mappings.add(mapping.describe())
        yield mapped(mapping, obj, source, "jsonl")
    yield from drain(errors)
    if empty and not path.stat().st_size:
        yield rejection("empty_file", name)
    report.mappings[name] = "; ".join(sorted(seen_mappings)) or "none"
