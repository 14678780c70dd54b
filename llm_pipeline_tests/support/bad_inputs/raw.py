"""Entries under raw/ that are not plain files in a format folder: compressed files, links,
FIFOs, names that are not UTF-8, files in the wrong place, and texts that hold the characters
record ids were once built with."""

from __future__ import annotations

import gzip
import json
import lzma
import os
from collections.abc import Callable
from pathlib import Path

from llm_pipeline_tests.support.bad_inputs.common import ARTICLE, BadInput

OUTSIDE_TEXT = "a private note outside the data directory that no record may hold"
SEPARATED = "How long should compost rest before use?\x1fAt least three months, turned every week."


def _outside(raw: Path) -> Path:
    """A folder beside the data directory (raw/ is <data>/raw), holding a file no run may read."""
    outside = raw.parents[1] / "outside-of-data"
    (outside / "folder").mkdir(parents=True, exist_ok=True)
    for path in (outside / "private.jsonl", outside / "folder" / "private.jsonl"):
        path.write_text(json.dumps({"text": OUTSIDE_TEXT}) + "\n")
    return outside


def _link(name: str, target: Callable[[Path], Path]) -> Callable[[Path], None]:
    def make(raw: Path) -> None:
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).symlink_to(target(raw))

    return make


def _climbing_target(raw: Path) -> Path:
    _outside(raw)
    return Path("../../../outside-of-data/private.jsonl")  # from raw/jsonl/: up to beside the data directory


def _fifo(raw: Path) -> None:
    os.mkfifo(raw / "jsonl" / "pipe.jsonl")


def _latin1_name(raw: Path) -> None:
    with open(os.fsencode(raw / "jsonl") + b"/r\xe9colte.jsonl", "w") as handle:
        handle.write(json.dumps({"text": ARTICLE + " (a file whose name is Latin-1)"}) + "\n")


def _write(name: str, content: str):
    def make(raw: Path) -> None:
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_text(content)

    return make


def _inside_target(raw: Path) -> Path:
    shared = raw.parent / "shared-notes.jsonl"  # in the data directory, outside raw/
    shared.write_text(json.dumps({"text": ARTICLE + " (read through a link inside the data directory)"}) + "\n")
    return shared


def _nothing() -> bytes:
    return b""


COMPRESSED_CSV = "question;answer\nWhy turn the heap?;So that air reaches the middle and it stays warm.\n"

RAW_INPUTS: list[BadInput] = [
    BadInput(
        "gzip CSV with a semicolon delimiter (sniffed after decompression)",
        "csv/heap.csv.gz",
        lambda: gzip.compress(COMPRESSED_CSV.encode()),
        keeps="Why turn the heap?\nSo that air reaches the middle",
    ),
    BadInput(
        "gzip bytes under a plain .jsonl name",
        "jsonl/disguised.jsonl",
        lambda: gzip.compress((json.dumps({"text": ARTICLE + " (gzip under a plain name)"}) + "\n").encode()),
        keeps="(gzip under a plain name)",
    ),
    BadInput(
        "xz-compressed JSONL",
        "jsonl/notes.jsonl.xz",
        lambda: lzma.compress((json.dumps({"text": ARTICLE + " (from xz)"}) + "\n").encode()),
        keeps="(from xz)",
    ),
    BadInput(
        "gzip stream cut short",
        "jsonl/cut.jsonl.gz",
        lambda: gzip.compress((json.dumps({"text": ARTICLE}) + "\n").encode() * 20)[:-25],
        reasons=("bad_compressed_file",),
    ),
    BadInput(
        "symlink to a file outside the data directory",
        "jsonl/private_link.jsonl",
        _nothing,
        reasons=("link_outside_data_dir",),
        never_keeps=OUTSIDE_TEXT,
        make=_link("jsonl/private_link.jsonl", lambda raw: _outside(raw) / "private.jsonl"),
    ),
    BadInput(
        "relative symlink that climbs out of the data directory",
        "jsonl/climbing_link.jsonl",
        _nothing,
        reasons=("link_outside_data_dir",),
        never_keeps=OUTSIDE_TEXT,
        make=_link("jsonl/climbing_link.jsonl", _climbing_target),
    ),
    BadInput(
        "symlinked folder outside the data directory",
        "jsonl/private_folder",
        _nothing,
        reasons=("link_outside_data_dir",),
        never_keeps=OUTSIDE_TEXT,
        make=_link("jsonl/private_folder", lambda raw: _outside(raw) / "folder"),
    ),
    BadInput(
        "symlink to a file inside the data directory",
        "jsonl/shared_link.jsonl",
        _nothing,
        keeps="read through a link inside the data directory",
        make=_link("jsonl/shared_link.jsonl", _inside_target),
    ),
    BadInput(
        "dangling symlink",
        "csv/dangling.csv",
        _nothing,
        reasons=("dangling_link",),
        make=_link("csv/dangling.csv", lambda raw: raw / "csv" / "deleted long ago.csv"),
    ),
    BadInput(
        "symlink loop",
        "html/loop.html",
        _nothing,
        reasons=("link_loop",),
        make=_link("html/loop.html", lambda raw: raw / "html" / "loop.html"),
    ),
    BadInput("FIFO named .jsonl", "jsonl/pipe.jsonl", _nothing, reasons=("not_a_regular_file",), make=_fifo),
    BadInput(
        "file name that is not UTF-8",
        "jsonl/r\\xe9colte.jsonl",
        _nothing,
        keeps="a file whose name is Latin-1",
        make=_latin1_name,
    ),
    BadInput(
        "file in a folder that is not a format",
        "tsv",
        _nothing,
        ignored=True,
        make=_write("tsv/table.tsv", "question\tanswer\nWhy?\tBecause.\n"),
    ),
    BadInput(
        "file directly in raw/",
        "stray.jsonl",
        _nothing,
        ignored=True,
        make=_write("stray.jsonl", json.dumps({"text": ARTICLE}) + "\n"),
    ),
    BadInput(
        "text holding the unit separator beside the same prompt and response as a pair",
        "jsonl/separator.jsonl",
        lambda: (
            json.dumps({"text": SEPARATED})
            + "\n"
            + json.dumps({"input": SEPARATED.split("\x1f")[0], "output": SEPARATED.split("\x1f")[1]})
            + "\n"
        ).encode(),
        keeps="\x1fAt least three months",
    ),
]
