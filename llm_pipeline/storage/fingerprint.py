"""Hashes of settings and of files: what goes into cache keys and data versions besides the code
(storage.code_fingerprint hashes that).

A cache keyed on less than everything that decides its values would, one day, hand back a
result computed by other code or other settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

_BLOCK = 1 << 20


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


def hash_file_into(digest, path: Path) -> None:
    """Feed the bytes of `path` into a hashlib `digest`, a block at a time (files may be gigabytes)."""
    with Path(path).open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)


def file_digest(path: Path) -> str:
    """sha256 hex of a file's bytes."""
    digest = hashlib.sha256()
    hash_file_into(digest, path)
    return digest.hexdigest()
