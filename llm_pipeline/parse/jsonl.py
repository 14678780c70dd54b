"""JSON Lines -> objects, one per line, with the line number for tracing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

ErrorCallback = Callable[[str, str], None]


def iter_objects(path: str | Path, *, on_error: ErrorCallback | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every JSON object line; blank lines are skipped.

    A line that is not JSON, or JSON that is not an object, goes to `on_error(location,
    reason)` (or raises ValueError without one); the lines after it are still read.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                if not line:
                    continue
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError(f"a JSON {type(value).__name__}, not an object")
            except (UnicodeDecodeError, ValueError) as error:
                reason = f"not a JSON object: {error}"
                if on_error is None:
                    raise ValueError(f"line {number}: {reason}") from error
                on_error(f"line {number}", reason)
                continue
            yield number, value
