"""One setting of a stage: a dataclass field that carries its help text.

Every stage's Settings is a frozen dataclass of such fields; the Dagster config of the stage is
generated from it (defs/config.py), so the help text a user reads in the launchpad is the one
written here, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import ModuleType
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


def settings_of_registry(
    name: str,
    module: str,
    doc: str,
    registry: Mapping[str, ModuleType],
    *extra: tuple,
    namespace: Mapping | None = None,
) -> type:
    """A frozen Settings dataclass with one field per registry entry (that module's `Settings`,
    its docstring as help), then the `extra` (name, type, field) entries: a registry of formats
    or filters brings its settings without a hand-written field per entry."""
    fields = [
        (key, entry.Settings, setting(factory=entry.Settings, help=(entry.Settings.__doc__ or "").strip()))
        for key, entry in registry.items()
    ]
    # __module__: pickling and typing.get_type_hints look the class up there.
    return dataclasses.make_dataclass(
        name, [*fields, *extra], frozen=True, namespace={"__module__": module, "__doc__": doc, **(namespace or {})}
    )


def documented_yaml(settings: Any, exclude: tuple[str, ...] = (), indent: int = 0) -> list[str]:
    """`settings` (a Settings instance) as YAML lines, each field under its help text as a comment:
    a reference a user can copy into a project file."""
    import yaml

    from llm_pipeline.storage.fingerprint import plain

    lines = []
    pad = " " * indent
    for field in dataclasses.fields(settings):
        if field.name in exclude:
            continue
        if help_text := " ".join(help_of(field).split()):
            lines.append(f"{pad}# {help_text}")
        value = getattr(settings, field.name)
        if dataclasses.is_dataclass(value):
            lines.append(f"{pad}{field.name}:")
            lines.extend(documented_yaml(value, indent=indent + 2))
            continue
        rendered = yaml.safe_dump(
            {field.name: plain(value)}, default_flow_style=True, sort_keys=False, width=1000
        ).strip()
        lines.append(f"{pad}{rendered.removeprefix('{').removesuffix('}')}")
    return lines
