"""What a filter is: a function of one record that keeps it (None) or says why it goes (`Drop`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llm_pipeline.records import Record


@dataclass(frozen=True)
class Drop:
    """Why a record goes: a stable `reason` to count by, a `detail` a person reads, and for a
    duplicate the `group` it belongs to (named after the group's kept record)."""

    reason: str
    detail: str = ""
    group: str = ""


Filter = Callable[[Record], "Drop | None"]
