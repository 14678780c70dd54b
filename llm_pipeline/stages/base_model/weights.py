"""A configured local model checked before anything downstream loads it: a path that does not exist
is named as a path (not as a Hub id), and a truncated safetensors file fails here, not three
launches later inside the trainer."""

from __future__ import annotations

import json
from pathlib import Path

PATH_PREFIXES = ("/", "./", "../", "~")
"""How a local folder is written; anything else (org/name) may be a Hugging Face id."""


class BaseModelError(ValueError):
    """A configured base model that cannot be used; the message names the file or setting."""


def check_local_model(name: str) -> None:
    path = Path(name).expanduser()
    if name.startswith(PATH_PREFIXES) and not path.exists():
        raise BaseModelError(
            f"base_model.model_name_or_path {name!r}: no such folder (a local path; a Hugging Face id reads org/name)"
        )
    if path.is_dir():
        for weights in sorted(path.rglob("*.safetensors")):
            check_safetensors_complete(weights)


def check_safetensors_complete(path: Path) -> None:
    """Raise BaseModelError when the file is shorter than its own header says, or has no valid header."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            header_length = int.from_bytes(handle.read(8), "little")
            if header_length <= 0 or 8 + header_length > size:
                raise ValueError("the header is cut off")
            header = json.loads(handle.read(header_length))
        end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise BaseModelError(f"{path}: not a readable safetensors file ({error})") from error
    expected = 8 + header_length + end
    if size < expected:
        raise BaseModelError(f"{path}: truncated: {size:,} bytes, its header describes {expected:,}")
