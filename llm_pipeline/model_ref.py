"""The pointer from the `base_model` stage to the model downstream stages load.

The base model is either built locally (a folder under models/) or named by the user (a Hugging
Face id or a local path); downstream stages read this small JSON file instead of guessing.
"""

from __future__ import annotations

import json
from pathlib import Path

REF_FILE = "base_model.json"


def write_model_ref(models_dir: Path, name_or_path: str, origin: str) -> Path:
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / REF_FILE
    staging = path.with_suffix(".json.tmp")
    staging.write_text(json.dumps({"model": name_or_path, "origin": origin}, indent=2))
    staging.replace(path)
    return path


def read_model_ref(models_dir: Path) -> str:
    path = models_dir / REF_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: materialize the base_model asset first")
    return json.loads(path.read_text())["model"]
