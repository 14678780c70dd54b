"""Where every stage reads and writes: one data directory, laid out as DESIGN.md says."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "LLM_PIPELINE_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """`$LLM_PIPELINE_DATA_DIR`, else `data/` at the repository root."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / "data"


@dataclass(frozen=True)
class DataLayout:
    """The folders under one data directory.

    raw/<format>/ is input (the formats: stages.plaintext.formats); each stage writes <stage>/; quarantined records go to
    rejected/<stage>/ (one folder per stage, so a stage rewrites only its own); cache/<stage>/
    keeps per-file work between runs; models/ holds the base model and checkpoints.
    """

    root: Path

    def raw(self, fmt: str | None = None) -> Path:
        return self.root / "raw" if fmt is None else self.root / "raw" / fmt

    def stage(self, name: str) -> Path:
        return self.root / name

    def rejected(self, stage: str) -> Path:
        return self.root / "rejected" / stage

    def cache(self, stage: str) -> Path:
        """Work a stage keeps between runs so that unchanged input is not processed again."""
        return self.root / "cache" / stage

    @property
    def models(self) -> Path:
        return self.root / "models"

    def inside(self, relative: str | os.PathLike) -> Path:
        """A user-configured path, refused if it would leave the data directory."""
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root.resolve()):
            raise ValueError(f"path {str(relative)!r} leaves the data directory {self.root}")
        return candidate
