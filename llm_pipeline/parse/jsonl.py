"""JSON Lines -> objects, one per line, with the line number for tracing.

Each line is read by `strict_json`: NaN and Infinity are refused, a key given twice with two values
is refused, a line nested too deeply is refused rather than crashing the read, and numbers keep
the spelling the file gives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from llm_pipeline.parse import strict_json
from llm_pipeline.parse.errors import OnError, report


def iter_objects(path: str | Path, *, on_error: OnError | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every JSON object line; blank lines are skipped.

    A line that is not JSON, or JSON that is not an object, goes to `on_error(location,
    reason)` (or raises ParseError, a ValueError, without one); the lines after it are still read.
    An object holding one key twice with different values is reported with a reason that starts
    with `strict_json.DUPLICATE_KEY`.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                if not line:
                    continue
                value = strict_json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError(f"a JSON {strict_json.json_type(value)}, not an object")
            except strict_json.DuplicateKeyError as error:
                report(on_error, f"line {number}", str(error))
                continue
            except (UnicodeDecodeError, ValueError) as error:
                report(on_error, f"line {number}", f"not a JSON object: {error}")
                continue
            yield number, value
