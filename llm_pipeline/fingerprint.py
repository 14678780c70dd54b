"""Hashes of what decides a cached result besides its input: code, library versions, settings.

A cache keyed on less than everything that decides its values would, one day, hand back a
result computed by other code or other settings; these hashes go into every cache key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent


def code_fingerprint(modules: Iterable[str], libraries: Iterable[str]) -> str:
    """A hash of the source of `modules` (files or packages under llm_pipeline/) and of the
    installed versions of `libraries`."""
    digest = hashlib.sha256()
    for entry in modules:
        path = PACKAGE_ROOT / entry
        if not path.exists():
            raise FileNotFoundError(f"fingerprinted module {entry} does not exist under {PACKAGE_ROOT}")
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + file.read_bytes())
    for library in libraries:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{library}=={version}\n".encode())
    return digest.hexdigest()


def settings_fingerprint(*parts: object) -> str:
    """A hash of settings (dataclasses, dicts, lists, scalars), independent of dict order."""
    return hashlib.sha256(json.dumps([plain(part) for part in parts], sort_keys=True).encode()).hexdigest()


def plain(value):
    """`value` as JSON-ready builtins: dataclasses as dicts, tuples as lists, keys as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
