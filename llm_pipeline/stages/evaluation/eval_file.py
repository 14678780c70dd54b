"""A user's own evaluation file: JSON Lines of a prompt and the answer expected for it.

Each line is an object with a prompt under `prompt`, `question`, `input`, `instruction` or
`query`, and the expected answer under `answer`, `expected`, `reference`, `output`, `response`,
`target` or `completion` (the first key present wins, in that order). A string or a number (as
written: `42`, `1.50`) is a value; anything else, an empty value, a missing key or a line that is
not a JSON object makes a bad line, reported with its number and the reason, and the other lines
are still scored. The file is named relative to the data directory and must stay inside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from llm_pipeline.parse import strict_json
from llm_pipeline.parse.jsonl import iter_objects
from llm_pipeline.storage.layout import DataLayout

PROMPT_KEYS = ("prompt", "question", "input", "instruction", "query")
ANSWER_KEYS = ("answer", "expected", "reference", "output", "response", "target", "completion")


class EvalFileError(ValueError):
    """An evaluation file that cannot be used at all: outside the data directory, missing, or no usable line."""


@dataclass(frozen=True)
class EvalItem:
    line: int
    prompt: str
    answer: str


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


@dataclass(frozen=True)
class EvalFile:
    name: str
    """As configured: relative to the data directory (what the card names; the path is local)."""
    path: Path
    sha256: str
    """Of the file's bytes: which version of the file was scored."""
    items: list[EvalItem]
    bad_lines: list[BadLine] = field(default_factory=list)


def read_eval_file(layout: DataLayout, relative: str) -> EvalFile:
    """The items of the file `relative` names in the data directory, and its bad lines."""
    try:
        path = layout.inside(relative)
    except ValueError as error:
        raise EvalFileError(f"evaluation.eval_file: {error}") from error
    if not path.is_file():
        raise EvalFileError(
            f"evaluation.eval_file: {relative!r} is no file in the data directory {layout.root} (looked for {path})"
        )
    bad_lines: list[BadLine] = []
    items = []
    for number, value in iter_objects(path, on_error=lambda where, why: bad_lines.append(_bad(where, why))):
        item = _item(number, value)
        if isinstance(item, BadLine):
            bad_lines.append(item)
        else:
            items.append(item)
    if not items:
        shown = "; ".join(f"line {bad.line}: {bad.reason}" for bad in bad_lines[:3]) or "the file is empty"
        raise EvalFileError(f"evaluation.eval_file: {path} holds no usable prompt and answer ({shown})")
    bad_lines.sort(key=lambda bad: bad.line)
    return EvalFile(relative, path, hashlib.sha256(path.read_bytes()).hexdigest(), items, bad_lines)


def _bad(location: str, reason: str) -> BadLine:
    return BadLine(int(location.removeprefix("line ")), reason)


def _item(number: int, value: dict) -> EvalItem | BadLine:
    texts = {}
    for role, keys in (("prompt", PROMPT_KEYS), ("answer", ANSWER_KEYS)):
        key = next((key for key in keys if key in value), None)
        if key is None:
            return BadLine(number, f"no {role}: expected one of the keys {', '.join(keys)}")
        text = value[key]
        if not isinstance(text, (str, strict_json.JSONNumber)):
            return BadLine(number, f"{key} is a JSON {strict_json.json_type(text)}, not a string")
        if not str(text).strip():
            return BadLine(number, f"{key} is empty")
        texts[role] = str(text)
    return EvalItem(number, texts["prompt"], texts["answer"])
