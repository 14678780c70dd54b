"""Dagster config generated from a stage's Settings dataclass: one source of truth for every field.

Names, types, defaults and help text come from the dataclass (help: `llm_pipeline.setting`);
`Literal` choices become enums that the launchpad checks before a run starts; nested settings
become nested config. `to_settings` turns a config value back into the dataclass, whose own
checks (`__post_init__`) then run.

Dagster config has no tuples and only string keys, so tuples become lists and `dict[int, ...]`
keys become strings in the launchpad (`{"2": 0.3}`), converted back on the way in.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import types
import typing
import warnings
from typing import Any, Literal, Union

import dagster as dg
import pydantic

from llm_pipeline.setting import help_of


def config_class(
    settings_type: type, name: str | None = None, exclude: tuple[str, ...] = (), defaults: Any = None
) -> type[dg.Config]:
    """A `dg.Config` with every field of the dataclass `settings_type` (but `exclude`).

    `defaults`, an instance of `settings_type` (the project file's settings), gives the fields
    their defaults, nested settings included; without it the dataclass's own defaults apply.
    """
    return _model(settings_type, name, exclude, defaults, dg.Config)


class StrictSettings(pydantic.BaseModel):
    """Base of the models that check a project file: an unknown key is an error, not ignored."""

    model_config = pydantic.ConfigDict(extra="forbid")


@functools.cache
def settings_schema(settings_type: type, exclude: tuple[str, ...] = ()) -> type[pydantic.BaseModel]:
    """A pydantic model that checks plain values (a project file's section) against `settings_type`:
    the same field types and choices as the launchpad's config, and unknown keys refused."""
    return _model(settings_type, f"{settings_type.__name__}Schema", exclude, None, StrictSettings)


def _model(settings_type: type, name: str | None, exclude: tuple[str, ...], defaults: Any, base: type) -> type:
    hints = typing.get_type_hints(settings_type)
    fields = {}
    for field in dataclasses.fields(settings_type):
        if field.name in exclude:
            continue
        description = help_of(field) or None
        if defaults is not None:
            value = getattr(defaults, field.name)
        elif field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING:
            value = field.default_factory() if field.default is dataclasses.MISSING else field.default
        else:
            value = dataclasses.MISSING
        # A nested settings field gets a model whose own defaults are this value's, so that a
        # partial nested override keeps the project's other nested values.
        nested_defaults = (
            value if dataclasses.is_dataclass(hints[field.name]) and value is not dataclasses.MISSING else None
        )
        annotation = _config_type(hints[field.name], base, nested_defaults)
        if value is dataclasses.MISSING:
            info = pydantic.Field(description=description)
        else:
            # A plain default (not a factory), so the launchpad shows it; pydantic copies a mutable
            # default for every instance.
            info = pydantic.Field(default=_config_default(value, annotation), description=description)
        fields[field.name] = (annotation, info)
    with warnings.catch_warnings():
        # The `json` format's settings shadow pydantic's deprecated `BaseModel.json()`, which nothing calls.
        warnings.filterwarnings("ignore", message='Field name "json"', category=UserWarning)
        model = pydantic.create_model(name or f"{settings_type.__name__}Config", __base__=base, **fields)
    model.__doc__ = (settings_type.__doc__ or "").strip()
    return model


def to_settings(config: dg.Config | dict, settings_type: type, **extra: Any):
    """The dataclass `settings_type` built from a config value (and `extra` fields not in the config)."""
    values = config.model_dump() if isinstance(config, pydantic.BaseModel) else dict(config)
    hints = typing.get_type_hints(settings_type)
    converted = {name: _settings_value(value, hints[name]) for name, value in values.items() if name in hints}
    return settings_type(**converted, **extra)


def _config_type(hint: Any, base: type, defaults: Any = None) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if defaults is None and base is dg.Config:
            return _default_config_class(hint)
        return _model(hint, None, (), defaults, base)
    if origin in (Union, types.UnionType):
        inner = [_config_type(arg, base) for arg in args if arg is not type(None)]
        union = Union[tuple(inner)]  # noqa: UP007 (built from a runtime tuple of types)
        return union | None if type(None) in args else union
    if origin is Literal:
        return hint
    if origin in (tuple, list, collections.abc.Sequence):
        return list[_config_type(args[0], base)] if args else list
    if origin in (dict, collections.abc.Mapping):
        key, value = args if args else (str, Any)
        return dict[str, _config_type(value, base)]
    return hint


@functools.cache
def _default_config_class(settings_type: type) -> type[dg.Config]:
    return _model(settings_type, None, (), None, dg.Config)


def _config_default(value: Any, annotation: Any) -> Any:
    """A settings default as the config field holds it: a nested config instance, or plain values."""
    plain = _config_value(value)
    if isinstance(plain, dict) and isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation(**plain)
    return plain


def _config_value(value: Any) -> Any:
    """A settings default as plain config: dataclasses as dicts, tuples as lists, keys as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _config_value(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_config_value(item) for item in value]
    if isinstance(value, collections.abc.Mapping):
        return {str(key): _config_value(item) for key, item in value.items()}
    return value


def _settings_value(value: Any, hint: Any) -> Any:
    """A config value as the type the settings field declares (the inverse of `_config_value`)."""
    if value is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return to_settings(value, hint)
    if origin in (Union, types.UnionType):
        for arg in args:
            if arg is not type(None) and (dataclasses.is_dataclass(arg) or typing.get_origin(arg) is not None):
                return _settings_value(value, arg)
        return value
    if origin is tuple:
        return tuple(_settings_value(item, args[0]) for item in value) if args else tuple(value)
    if origin is list:
        return [_settings_value(item, args[0]) for item in value] if args else list(value)
    if origin in (dict, collections.abc.Mapping):
        key_type, value_type = args if args else (str, Any)
        cast = key_type if key_type in (int, float) else (lambda key: key)
        return {cast(key): _settings_value(item, value_type) for key, item in value.items()}
    return value
