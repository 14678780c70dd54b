"""What every entry of the bad-input corpus is, and the texts the entries share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ARTICLE = (
    "Compost needs air, water and a mix of green kitchen scraps and brown leaves. Turn the heap every week "
    "so that the middle stays warm and the scraps break down into dark, crumbly soil."
)


@dataclass(frozen=True)
class BadInput:
    kind: str  # what is wrong with the file, in words
    path: str  # under raw/: the folder names the format
    content: Callable[[], bytes]
    keeps: str | None = None  # text a record from this file must contain
    reasons: tuple[str, ...] = ()  # quarantine reasons (prefixes) this file must produce
    never_keeps: str | None = None  # text no record from this file may contain
    bug: str | None = None  # a known fault in the pipeline that this file shows; the test is xfail
    on_its_own: bool = False  # slow to get through: tested alone, against a deadline, not in the shared run
    ignored: bool = False  # not read by design: listed with its reason in the plaintext metadata instead
    make: Callable[[Path], None] | None = None  # builds the entry under raw/ itself (links, FIFOs, odd names)

    def write(self, raw: Path) -> Path:
        target = raw / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.make is not None:
            self.make(raw)
        else:
            target.write_bytes(self.content())
        return target


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>Compost</title></head><body>{body}</body></html>"


def mysql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


QA = [
    (
        "How do I keep basil from bolting?",
        "Pinch off the flower buds as soon as they appear and harvest the top leaves often.",
    ),
    (
        "Why does bread dough need to rest?",
        "Resting lets the gluten relax and the yeast produce gas, so the loaf rises evenly.",
    ),
    (
        "How should I treat a minor burn?",
        "Cool it under running water for twenty minutes, then cover it loosely with a clean dressing.",
    ),
]
QA_CSV = "question,answer\n" + "".join(f'"{q}","{a}"\n' for q, a in QA)
