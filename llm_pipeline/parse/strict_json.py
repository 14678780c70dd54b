"""JSON as RFC 8259 defines it, for every JSON reader: Python's json module is laxer in four ways.

- It accepts `NaN`, `Infinity` and `-Infinity`, which are not JSON: refused here.
- An object with one key twice keeps the last value silently: refused here when the values
  differ (the same value twice loses nothing, so it is kept).
- A value nested deeper than the interpreter's recursion limit raises RecursionError, which is
  no ValueError: it becomes a refusal like any other, and the interpreter unwinds as usual.
- Numbers become float or int, which respell them (`1.50` -> 1.5, `1e400` -> inf, `-0` -> 0) or
  refuse them (ints over 4,300 digits): here a number stays the token the file holds.

Every refusal is a ValueError, so a reader's `except ValueError` catches all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DUPLICATE_KEY = "duplicate key"
"""How a duplicate-key refusal's message starts, for callers that only see the message."""


@dataclass(frozen=True, slots=True)
class JSONNumber:
    """A JSON number as written: `str()` gives the token back, so a text shows what the file says."""

    token: str

    def __str__(self) -> str:
        return self.token

    __repr__ = __str__  # in previews, a number reads as JSON writes it: 1.50, not JSONNumber(...)


class DuplicateKeyError(ValueError):
    """One JSON object holds the same key twice with different values."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"{DUPLICATE_KEY} {key!r} with two different values")


def loads(text: str) -> object:
    """The value of one JSON document: dict, list, str, JSONNumber, bool or None."""
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deeply to parse (over the interpreter's recursion limit)") from None


def json_type(value: object) -> str:
    """JSON's name for the type of a parsed value: object, array, string, number, boolean, null."""
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Parsed values hold no int or float (numbers are JSONNumber), so == never equates true with 1.
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj and obj[key] != value:
            raise DuplicateKeyError(key)
        obj[key] = value
    return obj


_JSON_TYPES = {dict: "object", list: "array", str: "string", JSONNumber: "number", bool: "boolean"}
_DECODER = json.JSONDecoder(
    parse_float=JSONNumber, parse_int=JSONNumber, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
)
