"""Listing and fingerprinting the raw input files: what the sensor watches and the data version."""

from __future__ import annotations

import hashlib
from pathlib import Path

from llm_pipeline.storage.fingerprint import file_digest


def list_raw_files(folder: Path) -> list[Path]:
    """Every regular file below `folder`, sorted, hidden files (.gitkeep, .DS_Store) excepted.

    The folder, not the file suffix, decides the format: a `.txt` under raw/html is still
    parsed as HTML, so nothing placed there is skipped without a trace.
    """
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def folder_digests(folder: Path) -> dict[str, str]:
    """{path relative to folder: sha256 of content} for every raw file below `folder`."""
    return {path.relative_to(folder).as_posix(): file_digest(path) for path in list_raw_files(folder)}


def combined_digest(digests: dict[str, str]) -> str:
    """One hash of a set of files: changes when a file is added, removed, renamed or edited."""
    digest = hashlib.sha256()
    for name in sorted(digests):
        digest.update(name.encode("utf-8") + b"\0" + digests[name].encode("ascii") + b"\n")
    return digest.hexdigest()[:16]
