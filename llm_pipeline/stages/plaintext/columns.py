"""Which fields of a row (CSV columns, SQL columns, JSON keys) become `text`, `input`/`output`
or, for a row holding a list of turns, `messages` (see `chat`).

A user names the fields in config; without config a mapping is inferred from common field
names, falling back to the longest free-text field, and the asset's metadata reports what
was chosen so the guess is never silent. A row with a conversation under a chat key is read as
one whatever the configured fields (`chat.conversation_keys: []` turns that off).

A value becomes text as written: strings as they are, numbers as the file spells them (JSON
numbers arrive as `strict_json.JSONNumber` tokens), booleans as `true`/`false` (JSON's and SQL's
spelling, not Python's `True`); null is no value; an object, array or blob is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llm_pipeline.records import Record
from llm_pipeline.setting import setting
from llm_pipeline.stages.plaintext.chat import ChatMapping, ChatSettings

# Names checked in order; the first present wins.
INPUT_NAMES = ("instruction", "prompt", "question", "query", "input", "user", "human")
OUTPUT_NAMES = ("output", "response", "answer", "completion", "reply", "assistant", "gpt")
TEXT_NAMES = ("text", "content", "body", "document", "article", "message", "description", "definition")
TITLE_NAMES = ("title", "subject", "headline", "term")
# Below this mean length a column holds labels or ids, not text worth training on.
MIN_FREE_TEXT_CHARS = 30


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns (or JSON keys) make a record: `text`, or `input` plus `output`."""

    text: tuple[str, ...] = setting((), "Columns joined (blank line between) into an unsupervised `text`.")
    input: tuple[str, ...] = setting((), "Columns joined into the prompt of a supervised record.")
    output: str | None = setting(None, "The column holding the response of a supervised record.")

    def __post_init__(self) -> None:
        supervised = bool(self.input) or self.output is not None
        if supervised and self.text:
            raise ValueError("a column mapping has either text columns or input/output columns, not both")
        if supervised and not (self.input and self.output):
            raise ValueError("a supervised column mapping needs both input and output columns")
        if not supervised and not self.text:
            raise ValueError("a column mapping needs text columns or input and output columns")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.text or (*self.input, self.output)  # type: ignore[return-value]

    def describe(self) -> str:
        if self.text:
            return "text <- " + " + ".join(self.text)
        return f"input <- {' + '.join(self.input)}; output <- {self.output}"

    def to_record(self, row: Mapping[str, object], source: str, fmt: str) -> Record | str:
        """The record for `row`, or the reason it cannot be one."""
        missing = [name for name in self.columns if name not in row]
        if missing:
            return f"missing_column: {', '.join(missing)}"
        if any(isinstance(row[name], (bytes, bytearray)) for name in self.columns):
            return "binary_value"
        if any(isinstance(row[name], (dict, list)) for name in self.columns):
            return "nested_value"  # a JSON object or array is structure, not text
        if self.text:
            text = _join(row, self.text)
            return Record.unsupervised(text, source, fmt) if text else "empty_text"
        prompt, response = _join(row, self.input), _join(row, (self.output,))
        if not prompt:
            return "empty_input"
        if not response:
            return "empty_output"
        return Record.supervised(prompt, response, source, fmt)


def _join(row: Mapping[str, object], names: Sequence[str]) -> str:
    texts = (_as_text(row.get(name)).strip() for name in names if row.get(name) is not None)
    return "\n\n".join(text for text in texts if text)


def _as_text(value: object) -> str:
    if isinstance(value, bool):  # before str(): Python would write True
        return "true" if value else "false"
    return str(value)


def mapping_for(
    samples: Sequence[Mapping[str, object]], configured: ColumnMapping | None, chat: ChatSettings | None = None
) -> ColumnMapping | ChatMapping | None:
    """The mapping of rows like `samples`: a conversation's when they hold one under a chat key,
    else the configured column mapping, else one inferred."""
    return (chat.mapping_for(samples) if chat else None) or configured or infer_mapping(samples)


def infer_mapping(samples: Sequence[Mapping[str, object]]) -> ColumnMapping | None:
    """Guess a mapping from a few rows: known names first, else the longest free-text column."""
    if not samples:
        return None
    columns = list(dict.fromkeys(name for row in samples for name in row))
    by_lower = {name.strip().lower(): name for name in columns}

    def first(names: Sequence[str]) -> str | None:
        return next((by_lower[name] for name in names if name in by_lower), None)

    output = first(OUTPUT_NAMES)
    if output is not None:
        inputs = [by_lower[name] for name in INPUT_NAMES if name in by_lower and by_lower[name] != output]
        # Alpaca layout: the instruction, then an optional extra input, form the prompt together.
        prompt = tuple(inputs[:2]) if inputs[:1] == [by_lower.get("instruction")] else tuple(inputs[:1])
        if prompt:
            return ColumnMapping(input=prompt, output=output)
    text = first(TEXT_NAMES) or _longest_text_column(samples, columns)
    if text is None:
        return None
    title = first(TITLE_NAMES)
    return ColumnMapping(text=(title, text) if title and title != text else (text,))


def _longest_text_column(samples: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str | None:
    def mean_length(name: str) -> float:
        values = [row.get(name) for row in samples]
        return sum(len(value) for value in values if isinstance(value, str)) / len(values)

    best = max(columns, key=mean_length, default=None)
    return best if best is not None and mean_length(best) >= MIN_FREE_TEXT_CHARS else None
