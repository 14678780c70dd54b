"""The pointer from the `base_model` stage to the model downstream stages load.

The base model is either built locally (a folder under models/) or named by the user (a Hugging
Face id or a local path); downstream stages read this small JSON file instead of guessing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from llm_pipeline.storage.fingerprint import weights_digest

REF_FILE = "base_model.json"


def write_model_ref(models_dir: Path, name_or_path: str, origin: str, trust_remote_code: bool = False) -> Path:
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / REF_FILE
    staging = path.with_suffix(".json.tmp")
    reference = {"model": name_or_path, "origin": origin, "trust_remote_code": trust_remote_code}
    staging.write_text(json.dumps(reference, indent=2))
    staging.replace(path)
    return path


def read_model_ref(models_dir: Path) -> str:
    return _reference(models_dir)["model"]


def model_ref_trusts_code(models_dir: Path) -> bool:
    """Whether base_model was told to run the code the model ships (every loader passes this on)."""
    return bool(_reference(models_dir).get("trust_remote_code", False))


def _reference(models_dir: Path) -> dict:
    path = models_dir / REF_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: materialize the base_model asset first")
    return json.loads(path.read_text())


# Files whose bytes decide the model's behaviour and are small enough to hash on every run;
# weight files enter through storage.fingerprint.weights_digest, each hashed once per size and mtime.
_HASHED_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.model",
)


def model_version(
    name_or_path: str, revision: str = "", cache_file: Path | None = None, trust_remote_code: bool = False
) -> str:
    """A data version of a base model: stable while the model is the same, new when it changes.

    A local directory: its config, tokenizer and code files' bytes and its weight files' bytes
    (hashed once per size and mtime when `cache_file` keeps them). A hub id: the id and the
    resolved commit (`revision`) when known. Running the model's own code or not is part of it.
    """
    digest = hashlib.sha256(name_or_path.encode("utf-8") + b"\0" + revision.encode("utf-8"))
    if trust_remote_code:
        digest.update(b"\0trust_remote_code")
    directory = Path(name_or_path)
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.name in _HASHED_FILES or path.suffix == ".py":
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        digest.update(weights_digest(directory, cache_file).encode())
    return digest.hexdigest()[:16]
