"""The answer of a filter that does not keep a record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Drop:
    """Why a record goes: a stable `reason` to count by, a `detail` a person reads, and for a
    duplicate the `group` it belongs to (named after the group's kept record)."""

    reason: str
    detail: str = ""
    group: str = ""
