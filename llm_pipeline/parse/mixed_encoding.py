"""A codec for text files whose lines disagree about their encoding.

Exports stitched together from several systems hold UTF-8 lines next to cp1252 ones; decoding
the whole file with one guess garbles one kind or the other. This codec decodes each line on
its own: as UTF-8 where the line is valid UTF-8, else as cp1252 (latin-1 for the five bytes
cp1252 leaves undefined). Registered under MIXED_ENCODING, it works wherever an encoding name
does (`open`, pandas).
"""

from __future__ import annotations

import codecs

MIXED_ENCODING = "utf-8-or-cp1252"
_LOOKUP_NAME = "utf_8_or_cp1252"  # how Python normalizes the name before asking a search function


def decode_line(line: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line.decode("latin-1")  # every byte is a latin-1 character


def has_mixed_lines(path) -> bool:
    """True when some lines are multi-byte UTF-8 and others are not UTF-8 at all."""
    utf8_lines = other_lines = 0
    with open(path, "rb") as handle:
        for line in handle:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                other_lines += 1
            if utf8_lines and other_lines:
                return True
    return False


class _LineDecoder(codecs.IncrementalDecoder):
    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._pending = b""

    def decode(self, data: bytes, final: bool = False) -> str:
        self._pending += data
        end = len(self._pending) if final else self._pending.rfind(b"\n") + 1
        complete, self._pending = self._pending[:end], self._pending[end:]
        return "".join(decode_line(line) for line in complete.splitlines(keepends=True))

    def reset(self) -> None:
        self._pending = b""

    def getstate(self):
        return self._pending, 0

    def setstate(self, state) -> None:
        self._pending = state[0]


def _decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
    return _LineDecoder(errors).decode(bytes(data), final=True), len(data)


def _search(name: str) -> codecs.CodecInfo | None:
    if name != _LOOKUP_NAME:
        return None
    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=MIXED_ENCODING,
        encode=utf8.encode,
        decode=_decode,
        incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=_LineDecoder,
        streamreader=utf8.streamreader,
        streamwriter=utf8.streamwriter,
    )


def register() -> None:
    """Make MIXED_ENCODING known to `codecs` (idempotent)."""
    try:
        codecs.lookup(MIXED_ENCODING)
    except LookupError:
        codecs.register(_search)
