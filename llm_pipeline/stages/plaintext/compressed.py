"""Compressed raw files are read like any other: decompressed first, then sniffed and parsed.

The compression is told by the file's first bytes, not its name, so a gzip file named `.csv`
is read too, and the encoding and delimiter sniffers see the text, never the compressed bytes.
gzip, bz2 and xz come from the standard library, zstd from pyarrow. The text goes to a
temporary file for the format reader, so memory stays flat however large it is; a file that
inflates far past its own size (a decompression bomb), an archive of several files, or a
stream cut short is quarantined with its reason instead.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import tempfile
from collections.abc import Iterator
from pathlib import Path

# First bytes -> compression. Checked longest first.
MAGIC = {
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bz2",
    b"\x1f\x8b": "gzip",
}
ARCHIVE_MAGIC = {b"PK\x03\x04": "zip", b"7z\xbc\xaf\x27\x1c": "7z", b"Rar!\x1a\x07": "rar"}
SUFFIXES = {"gzip": (".gz", ".gzip"), "bz2": (".bz2",), "xz": (".xz",), "zstd": (".zst", ".zstd")}
# A decompressed file may reach this size whatever its ratio; past it, at most this many times its own size.
FREE_BYTES = 1 << 30
MAX_RATIO = 200
_CHUNK = 1 << 20


class CompressedFileError(ValueError):
    """A compressed raw file that cannot be read as one text file; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def compression_of(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)


@contextlib.contextmanager
def decompressed(path: Path) -> Iterator[tuple[Path, str | None]]:
    """(the file to parse, its compression or None): `path` itself, or its text in a temporary
    file that lives for the block. Raises CompressedFileError for what cannot be read."""
    kind = compression_of(path)
    if kind is None:
        yield path, None
        return
    with tempfile.TemporaryDirectory(prefix="llm_pipeline-raw-") as folder:
        target = Path(folder) / _without_suffix(path.name, kind)
        _inflate(path, kind, target)
        _refuse_archive(target, kind)
        yield target, kind


def _inflate(path: Path, kind: str, target: Path) -> None:
    limit = max(FREE_BYTES, MAX_RATIO * path.stat().st_size)
    written = 0
    try:
        with _open(path, kind) as source, target.open("wb") as sink:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise CompressedFileError(
                        "decompression_bomb",
                        f"{kind}: inflates past {limit:,} bytes ({MAX_RATIO}x its {path.stat().st_size:,} bytes); "
                        "decompress it yourself if it is real",
                    )
                sink.write(chunk)
    except CompressedFileError:
        raise
    except (EOFError, OSError, lzma.LZMAError, ValueError) as error:
        # pyarrow raises its own OSError subclasses; gzip EOFError when the stream is cut short.
        detail = f"{kind} stream unreadable after {written:,} bytes: {error}"
        raise CompressedFileError("bad_compressed_file", detail) from error


def _open(path: Path, kind: str):
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    import pyarrow as pa

    return pa.CompressedInputStream(pa.OSFile(str(path), "rb"), "zstd")


def _refuse_archive(target: Path, kind: str) -> None:
    with target.open("rb") as handle:
        head = handle.read(512)
    archive = next((name for magic, name in ARCHIVE_MAGIC.items() if head.startswith(magic)), None)
    if archive is None and head[257:262] == b"ustar":
        archive = "tar"
    if archive is not None:
        raise CompressedFileError(
            "archive_not_supported",
            f"a {archive} archive ({kind}-compressed): unpack its files into raw/<format>/",
        )


def _without_suffix(name: str, kind: str) -> str:
    for suffix in SUFFIXES[kind]:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name
