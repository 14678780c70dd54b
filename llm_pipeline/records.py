"""The record every stage passes on, and the quarantine entry for what a stage cannot keep."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PREVIEW_CHARS = 200


def content_id(*parts: str) -> str:
    """A stable id from the content alone: the same text from two files gets the same id.

    The hash covers how many parts there are and each part's length before its bytes, so no
    content can pose as another: a text holding a separator character never takes the id of a
    prompt/response pair, and ("ab", "c") differs from ("a", "bc"). Caches keyed by id follow
    a change of this scheme by themselves: their files are named by the code that fills them.
    """
    digest = hashlib.sha256(f"{len(parts)}\n".encode())
    for part in parts:
        data = part.encode("utf-8")
        digest.update(f"{len(data)}:".encode() + data)
    return digest.hexdigest()[:16]


@dataclass(slots=True)
class Record:
    """One training example: unsupervised `text`, or a supervised `input` / `output` pair.

    `source` says where it came from (file and row, line or byte offset) so that any record,
    kept or rejected, can be traced back to its raw file.
    """

    id: str
    source: str
    format: str
    text: str | None = None
    input: str | None = None
    output: str | None = None

    @classmethod
    def unsupervised(cls, text: str, source: str, format: str) -> Record:
        return cls(id=content_id(text), source=source, format=format, text=text)

    @classmethod
    def supervised(cls, input: str, output: str, source: str, format: str) -> Record:
        return cls(id=content_id(input, output), source=source, format=format, input=input, output=output)

    @property
    def is_supervised(self) -> bool:
        return self.text is None

    @property
    def prompt(self) -> str:
        """The side that defines "the same example" for splitting: the input, or the whole text."""
        return self.input if self.is_supervised else self.text  # type: ignore[return-value]

    @property
    def response(self) -> str:
        """The side a model learns to produce: the output, or the whole text."""
        return self.output if self.is_supervised else self.text  # type: ignore[return-value]

    @property
    def content(self) -> str:
        return self.text if self.text is not None else f"{self.input}\n{self.output}"

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in RECORD_FIELDS}  # asdict deep-copies: 10x slower

    @classmethod
    def from_dict(cls, row: dict) -> Record:
        return cls(**{name: row.get(name) for name in RECORD_FIELDS})


RECORD_FIELDS = ("id", "source", "format", "text", "input", "output")


@dataclass(slots=True)
class Rejection:
    """A record or a piece of input that a stage did not keep, with why and where from."""

    stage: str
    reason: str
    source: str
    preview: str = ""
    record_id: str | None = None
    detail: str = ""

    @classmethod
    def of_record(cls, record: Record, stage: str, reason: str, detail: str = "") -> Rejection:
        return cls(
            stage=stage,
            reason=reason,
            source=record.source,
            preview=record.content[:PREVIEW_CHARS],
            record_id=record.id,
            detail=detail,
        )

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in REJECTION_FIELDS}


REJECTION_FIELDS = ("stage", "reason", "source", "preview", "record_id", "detail")
