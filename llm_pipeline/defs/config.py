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
from typing import Any, Literal, Union

import dagster as dg
import pydantic

from llm_pipeline.setting import help_of


@functools.cache
def config_class(settings_type: type, name: str | None = None, exclude: tuple[str, ...] = ()) -> type[dg.Config]:
    """A `dg.Config` with every field of the dataclass `settings_type` (but `exclude`)."""
    hints = typing.get_type_hints(settings_type)
    fields = {}
    for field in dataclasses.fields(settings_type):
        if field.name in exclude:
            continue
        annotation = _config_type(hints[field.name])
        description = help_of(field) or None
        if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING:
            value = field.default_factory() if field.default is dataclasses.MISSING else field.default
            # A plain default (not a factory), so the launchpad shows it; pydantic copies a mutable
            # default for every instance.
            info = pydantic.Field(default=_config_default(value, annotation), description=description)
        else:
            info = pydantic.Field(description=description)
        fields[field.name] = (annotation, info)
    doc = (settings_type.__doc__ or "").strip()
    model = pydantic.create_model(name or f"{settings_type.__name__}Config", __base__=dg.Config, **fields)
    model.__doc__ = doc
    return model


def to_settings(config: dg.Config | dict, settings_type: type, **extra: Any):
    """The dataclass `settings_type` built from a config value (and `extra` fields not in the config)."""
    values = config.model_dump() if isinstance(config, pydantic.BaseModel) else dict(config)
    hints = typing.get_type_hints(settings_type)
    converted = {name: _settings_value(value, hints[name]) for name, value in values.items() if name in hints}
    return settings_type(**converted, **extra)


def _config_type(hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return config_class(hint)
    if origin in (Union, types.UnionType):
        inner = [_config_type(arg) for arg in args if arg is not type(None)]
        union = Union[tuple(inner)]  # noqa: UP007 (built from a runtime tuple of types)
        return union | None if type(None) in args else union
    if origin is Literal:
        return hint
    if origin in (tuple, list, collections.abc.Sequence):
        return list[_config_type(args[0])] if args else list
    if origin in (dict, collections.abc.Mapping):
        key, value = args if args else (str, Any)
        return dict[str, _config_type(value)]
    return hint


def _config_default(value: Any, annotation: Any) -> Any:
    """A settings default as the config field holds it: a nested config instance, or plain values."""
    plain = _config_value(value)
    if isinstance(plain, dict) and isinstance(annotation, type) and issubclass(annotation, dg.Config):
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
