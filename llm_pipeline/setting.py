"""One setting of a stage: a dataclass field that carries its help text.

Every stage's Settings is a frozen dataclass of such fields; the Dagster config of the stage is
generated from it (defs/config.py), so the help text a user reads in the launchpad is the one
written here, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

HELP = "help"


def setting(default: Any = dataclasses.MISSING, help: str = "", *, factory: Callable[[], Any] | None = None) -> Any:
    """A dataclass field with `help` in its metadata; a list, dict or set default is copied per instance."""
    metadata = {HELP: help}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def help_of(field: dataclasses.Field) -> str:
    return field.metadata.get(HELP, "")
