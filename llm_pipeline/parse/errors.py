"""How the parsers report input they cannot read.

A parser never drops a bad record silently: it calls the caller's `on_error(location, reason)`
(which turns it into a quarantine entry) and carries on, or, with no callback, raises
`ParseError`. `ParseError` is a `ValueError`, so callers can catch either.
"""

from __future__ import annotations

from collections.abc import Callable

OnError = Callable[[str, str], None]
"""`on_error(location, reason)`: location such as "line 17" or "statement 12 (line 340)"."""


class ParseError(ValueError):
    """Input that a parser cannot read, with where (if known) and why."""

    def __init__(self, reason: str, location: str | None = None) -> None:
        self.reason = reason
        self.location = location
        super().__init__(f"{location}: {reason}" if location else reason)


def report(on_error: OnError | None, location: str, reason: str) -> None:
    """Hand a bad record to the caller, or raise when the caller gave no callback."""
    if on_error is None:
        raise ParseError(reason, location)
    on_error(location, reason)
