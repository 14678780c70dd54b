"""JSON as RFC 8259 defines it, for every JSON reader: Python's json module is laxer in four ways.

- It accepts `NaN`, `Infinity` and `-Infinity`, which are not JSON: refused here.
- An object with one key twice keeps the last value silently: refused here when the values
  differ (the same value twice loses nothing, so it is kept).
- A value nested deeper than the interpreter's recursion limit raises RecursionError, which is
  no ValueError: it becomes a refusal like any other, and the interpreter unwinds as usual.
- Numbers become float or int, which respell them (`1.50` -> 1.5, `1e400` -> inf, `-0` -> 0) or
  refuse them (ints over 4,300 digits): here a number stays the token the file holds.

Every refusal is a ValueError, so a reader's `except ValueError` catches all of them. In a file
holding an array of records, `loads_elements` refuses only the elements that break these rules,
so one duplicate key does not cost the file its other records.
"""

from __future__ import annotations

import json
import re
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
        raise ValueError(_TOO_DEEP) from None


@dataclass(frozen=True, slots=True)
class RefusedElement:
    """An element of a top-level array that is well-formed JSON text but breaks a rule above."""

    error: ValueError
    line: int  # the file line where the element starts


def loads_elements(text: str) -> object:
    """As `loads`, except that in a top-level array an element that breaks a rule (NaN, a
    duplicate key, nesting too deep) becomes a `RefusedElement` in its place, the others parsed.
    A syntax error anywhere is still a JSONDecodeError: past it, no element boundary can be trusted."""
    try:
        return loads(text)  # the common case, in one pass
    except json.JSONDecodeError:
        raise
    except ValueError:
        start = _WHITESPACE.match(text).end()
        if not text.startswith("[", start):
            raise
    elements: list[object] = []
    pos = _WHITESPACE.match(text, start + 1).end()
    if text.startswith("]", pos):
        return elements
    while True:
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as error:
            refusal = error if isinstance(error, ValueError) else ValueError(_TOO_DEEP)
            value, end = RefusedElement(refusal, text.count("\n", 0, pos) + 1), _end_of_value(text, pos)
        elements.append(value)
        pos = _WHITESPACE.match(text, end).end()
        if text.startswith(",", pos):
            pos = _WHITESPACE.match(text, pos + 1).end()
        elif text.startswith("]", pos):
            break
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
    if _WHITESPACE.match(text, pos + 1).end() != len(text):
        raise json.JSONDecodeError("Extra data", text, pos + 1)
    return elements


def _end_of_value(text: str, pos: int) -> int:
    """Where the JSON value at `pos` ends, found by its brackets and strings alone (no recursion:
    the value may be nested too deeply to parse)."""
    depth = 0
    for token in _VALUE_TOKENS.finditer(text, pos):
        bracket = token.group("bracket")
        if bracket in ("[", "{"):
            depth += 1
        elif bracket in ("]", "}"):
            depth -= 1
        if depth == 0:
            return token.end()
    raise json.JSONDecodeError("Unterminated value", text, pos)


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


_TOO_DEEP = "nested too deeply to parse (over the interpreter's recursion limit)"
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Strings whole, brackets one by one, and any other run of characters (numbers, words, commas).
_VALUE_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|(?P<bracket>[\[\]{}])|[^"\[\]{}\s,:]+|[\s,:]+')
_JSON_TYPES = {dict: "object", list: "array", str: "string", JSONNumber: "number", bool: "boolean"}
_DECODER = json.JSONDecoder(
    parse_float=JSONNumber, parse_int=JSONNumber, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
)
