"""Hashes of settings and of files: what goes into cache keys and data versions besides the code
(storage.code_fingerprint hashes that).

A cache keyed on less than everything that decides its values would, one day, hand back a
result computed by other code or other settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

_BLOCK = 1 << 20
WEIGHT_SUFFIXES = frozenset({".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf"})
"""Files that hold model weights."""
WEIGHTS_DIGEST_CACHE = ".weights_digest.json"
"""Per-file hashes of local base-model weights (`weights_digest`), kept in the data directory's models/."""


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


def weights_digest(model_dir: Path, cache_file: Path | None = None) -> str:
    """sha256 over the bytes of a local model's weight files, each hashed once per (size, mtime):
    new weights under the same name and size are new weights; an unchanged 10 GB model is not
    read again on every run (`cache_file` keeps the per-file hashes)."""
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file else {}
    except (OSError, ValueError):
        cache = {}
    digest = hashlib.sha256()
    fresh = {}
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES):
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if key not in cache:
            file_hash = hashlib.sha256()
            hash_file_into(file_hash, path)
            cache[key] = file_hash.hexdigest()
        fresh[key] = cache[key]
        digest.update(f"{path.relative_to(model_dir)}\0{cache[key]}\n".encode())
    if cache_file is None:
        return digest.hexdigest()
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        staging = cache_file.with_name(f".{cache_file.name}.tmp.{os.getpid()}")
        staging.write_text(json.dumps(fresh, indent=0) + "\n", encoding="utf-8")
        staging.replace(cache_file)
    except OSError:  # a read-only folder: the digest is still right, only slower next time
        pass
    return digest.hexdigest()


def saved_dataset_digest(path) -> str:
    """A hash of the Arrow data files of a dataset saved with `save_to_disk` (and of its split names).

    Only the files its `state.json` lists count: `map` leaves cache files beside them that say
    nothing about the data.
    """
    root = Path(path)
    digest = hashlib.sha256()
    split_dirs = (
        [root / name for name in json.loads((root / "dataset_dict.json").read_text())["splits"]]
        if (root / "dataset_dict.json").is_file()
        else [root]
    )
    for split_dir in split_dirs:
        digest.update(split_dir.name.encode())
        state = json.loads((split_dir / "state.json").read_text())
        for entry in state["_data_files"]:
            hash_file_into(digest, split_dir / entry["filename"])
    return digest.hexdigest()
