"""JSON files holding an array of records (LLaMA-Factory's data files): each element through the key
mapping; an element that is not an object, or a file that is not one JSON array, is quarantined.

The file is read by `strict_json`: an element holding NaN or Infinity, nesting too deep to parse,
or one key given twice with two values is quarantined on its own, with its line; a syntax error
quarantines the whole file at its line and column (past it no element boundary can be trusted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llm_pipeline.parse import strict_json
from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.chat import ChatSettings
from llm_pipeline.stages.plaintext.columns import ColumnMapping, mapping_for
from llm_pipeline.stages.plaintext.formats.rows import mapped, rejection
from llm_pipeline.stages.plaintext.report import IngestReport, Item


@dataclass(frozen=True)
class Settings:
    """How the JSON array files under raw/json/ are read."""

    fields: ColumnMapping | None = setting(
        None,
        "Key mapping for the objects of JSON arrays. Unset: inferred per element as for JSONL "
        "(`text`, `input`/`output`, `instruction`/`input`/`output`, `prompt`/`response`, ...).",
    )
    chat: ChatSettings = setting(
        factory=ChatSettings,
        help="Conversations: an object with a list of turns under `messages` or `conversations` (OpenAI "
        "`role`/`content`, ShareGPT `from`/`value`) becomes a chat record; speaker names map to system, user, "
        "assistant.",
    )


def read(path: Path, name: str, settings: Settings, report: IngestReport) -> Iterator[Item]:
    """Records of `[{...}, {...}]`; sources read `<name> item N`, N counting elements from 1."""
    data = path.read_bytes()
    if not data.strip():
        yield rejection("empty_file", name)
        return
    try:
        items = strict_json.loads_elements(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        yield rejection("bad_json_file", name, preview=data[:80], detail=f"not UTF-8: {error}")
        return
    except json.JSONDecodeError as error:
        location = f"line {error.lineno} column {error.colno}"
        yield rejection("bad_json_file", f"{name} {location}", preview=data[:80], detail=f"not JSON: {error.msg}")
        return
    except strict_json.DuplicateKeyError as error:
        yield rejection("duplicate_key", name, preview=data[:80], detail=str(error))
        return
    except ValueError as error:  # NaN, Infinity, nesting too deep in a document that is no array
        yield rejection("bad_json_file", name, preview=data[:80], detail=f"not JSON: {error}")
        return
    if not isinstance(items, list):
        kind = strict_json.json_type(items)
        yield rejection("not_a_json_array", name, preview=items, detail=f"a JSON {kind}, not an array of records")
        return
    seen_mappings: set[str] = set()
    for number, obj in enumerate(items, start=1):
        source = f"{name} item {number}"
        if isinstance(obj, strict_json.RefusedElement):
            kind = "duplicate_key" if isinstance(obj.error, strict_json.DuplicateKeyError) else "bad_json_item"
            yield rejection(kind, source, detail=f"line {obj.line}: not JSON: {obj.error}")
            continue
        if not isinstance(obj, dict):
            yield rejection(
                "bad_json_item", source, preview=obj, detail=f"a JSON {strict_json.json_type(obj)}, not an object"
            )
            continue
        mapping = mapping_for([obj], settings.fields, settings.chat)
        if mapping is None:
            yield rejection("no_text_fields", source, preview=obj, detail=f"keys: {sorted(obj)}")
            continue
        seen_mappings.add(mapping.describe())
        yield mapped(mapping, obj, source, "json")
    report.mappings[name] = "; ".join(sorted(seen_mappings)) or "none"
