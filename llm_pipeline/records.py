"""The record every stage passes on, and the quarantine entry for what a stage cannot keep."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PREVIEW_CHARS = 200
ROLES = ("system", "user", "assistant")
"""The roles of a chat record's turns, after the reader has mapped the file's own names to them."""
CHAT_TAG = "messages"
"""The first part of a chat record's id: three parts or more, never the count of a text's or a pair's."""


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
    """One training example: unsupervised `text`, a supervised `input` / `output` pair, or a
    conversation, `messages`: turns `{"role": "system" | "user" | "assistant", "content": str}`,
    an optional system turn first, then user and assistant alternating, ending with an assistant turn.

    `source` says where it came from (file and row, line or byte offset) so that any record,
    kept or rejected, can be traced back to its raw file.
    """

    id: str
    source: str
    format: str
    text: str | None = None
    input: str | None = None
    output: str | None = None
    messages: Sequence[Mapping[str, str]] | None = None

    @classmethod
    def unsupervised(cls, text: str, source: str, format: str) -> Record:
        return cls(id=content_id(text), source=source, format=format, text=text)

    @classmethod
    def supervised(cls, input: str, output: str, source: str, format: str) -> Record:
        return cls(id=content_id(input, output), source=source, format=format, input=input, output=output)

    @classmethod
    def chat(cls, messages: Iterable[Mapping[str, str]], source: str, format: str) -> Record:
        turns = tuple({"role": turn["role"], "content": turn["content"]} for turn in messages)
        parts = (part for turn in turns for part in (turn["role"], turn["content"]))
        return cls(id=content_id(CHAT_TAG, *parts), source=source, format=format, messages=turns)

    @property
    def is_supervised(self) -> bool:
        """Whether part of the record is a prompt the model is not trained to write (pairs and chats)."""
        return self.text is None

    @property
    def is_chat(self) -> bool:
        return self.messages is not None

    def turns(self, role: str) -> list[str]:
        """The contents of a chat record's turns of `role`, in order (none for other records)."""
        return [turn["content"] for turn in self.messages or () if turn["role"] == role]

    @property
    def prompt(self) -> str:
        """The side that defines "the same example" for splitting: the input, a conversation's
        first user turn, or the whole text."""
        if self.is_chat:
            return self.turns("user")[0]
        return self.input if self.is_supervised else self.text  # type: ignore[return-value]

    @property
    def response(self) -> str:
        """The side a model learns to produce: the output, a conversation's last assistant turn,
        or the whole text."""
        if self.is_chat:
            return self.turns("assistant")[-1]
        return self.output if self.is_supervised else self.text  # type: ignore[return-value]

    @property
    def responses(self) -> list[str]:
        """Every text the model learns to produce: each assistant turn of a conversation, else the response."""
        return self.turns("assistant") if self.is_chat else [self.response]

    @property
    def content(self) -> str:
        """All of the record as one text (clustering, previews, a tokenizer's corpus): the text; input
        and output on their own lines; a conversation's turns as `role: content`, a blank line between."""
        if self.is_chat:
            return "\n\n".join(f"{turn['role']}: {turn['content']}" for turn in self.messages)  # type: ignore[union-attr]
        return self.text if self.text is not None else f"{self.input}\n{self.output}"

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in RECORD_FIELDS}  # asdict deep-copies: 10x slower

    @classmethod
    def from_dict(cls, row: dict) -> Record:
        return cls(**{name: row.get(name) for name in RECORD_FIELDS})


RECORD_FIELDS = ("id", "source", "format", "text", "input", "output", "messages")


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
