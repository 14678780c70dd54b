"""Records -> token ids with loss-masked labels, packed into rows a causal-LM trainer consumes.

Supervised records (`input` + `output`, as the conversation [user: input, assistant: output]) and
chat records (`messages`) are rendered through the chat template (chat_template.py) and tokenized
once, as `tokenizer.apply_chat_template(messages)` does; the assistant turns, each with its
end-of-turn marker, are learned and everything else is masked (label -100), or as `learn` says.
Unsupervised records (`text`) become ``text + EOS`` with every token a label. The labels are *not*
shifted: Hugging Face causal-LM models shift them inside ``forward``, so the label at position 0
never enters the loss.

With ``packing`` (the default) the records of a split are laid into rows of at most
``max_length`` tokens: unsupervised texts are concatenated and cut into full blocks (a long text
continues in the next block instead of being cut off); supervised and chat records, and what is
left of the texts, are packed whole by best-fit decreasing. Inside a row every piece of a record
starts again at position 0 (`position_ids`): with no attention mask, transformers then builds a
block-diagonal causal mask (its flattening collator relies on the same rule), so no token
attends to, or is predicted from, another record. The label at the first token of every piece
is masked for the same reason. Without packing every record is a row of its own and the
trainer's collator pads each batch to its longest row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa

from llm_pipeline.stages.tokenized.chat_template import (
    ChatTemplate,
    ChatTemplateError,
    conversation_of,
    render_conversation,
)
from llm_pipeline.stages.tokenized.settings import TokenizeSettings
from llm_pipeline.stages.tokenized.version import CODE_LIBRARIES, plain_backend, tokenization_fingerprint
from llm_pipeline.storage.code_fingerprint import code_fingerprint
from llm_pipeline.storage.fingerprint import settings_fingerprint
from llm_pipeline.storage.row_cache import KEY, TableCache
from llm_pipeline.token_rows import IGNORE_INDEX, TOKENIZED_COLUMNS

# Reasons a record is dropped here; the caller quarantines them under these names.
REASON_PROMPT_FILLS_MAX_LENGTH = "prompt_fills_max_length"


REASON_NO_TARGET_TOKENS = "no_target_tokens"


REASON_PROMPT_TOO_LONG = "prompt_over_source_max_len"


REASON_RESPONSE_TOO_LONG = "response_over_target_max_len"


REASON_RECORD_TOO_LONG = "record_over_max_length"


REASON_NO_TURN_FITS = "no_assistant_turn_fits_max_length"


# Helper columns that live only between `map` and packing.
DROP_COLUMN = "_drop_reason"


TRUNCATED_COLUMN = "_truncated"


LENGTH_COLUMN = "_length"


FULL_LENGTH_COLUMN = "_full_length"


TEXT_COLUMN = "_is_text"


ENCODED_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "source": datasets.Value("string"),
        "input_ids": datasets.List(datasets.Value("int32")),
        "attention_mask": datasets.List(datasets.Value("int8")),
        "labels": datasets.List(datasets.Value("int32")),
        DROP_COLUMN: datasets.Value("string"),
        TRUNCATED_COLUMN: datasets.Value("bool"),
        LENGTH_COLUMN: datasets.Value("int32"),
        FULL_LENGTH_COLUMN: datasets.Value("int32"),
        TEXT_COLUMN: datasets.Value("bool"),
    }
)


ROW_FEATURES = datasets.Features({name: ENCODED_FEATURES[name] for name in TOKENIZED_COLUMNS})


CACHED_COLUMNS = [name for name in ENCODED_FEATURES if name not in ("id", "source")]


# What `encoding_cache` keeps per record: the encoding, without the record's id (the key) and source.
ENCODING_CACHE_SCHEMA = pa.schema(
    [pa.field(KEY, pa.string()), *(ENCODED_FEATURES.arrow_schema.field(name) for name in CACHED_COLUMNS)]
)


def encoding_cache(folder, tokenizer, settings: TokenizeSettings) -> TableCache:
    """Encoded records kept between runs under `folder`, keyed by record id, one file per tokenizer,
    settings, chat template and tokenizing code (record ids are content hashes: same id, same tokens)."""
    fingerprint = settings_fingerprint(
        tokenization_fingerprint(tokenizer, settings), code_fingerprint(__name__, libraries=CODE_LIBRARIES)
    )
    return TableCache(Path(folder), fingerprint, ENCODING_CACHE_SCHEMA)


class BatchEncoder:
    """The function `datasets.map` runs on each batch (a class so that it pickles for num_proc)."""

    def __init__(
        self, tokenizer, settings: TokenizeSettings, template: ChatTemplate, cache: TableCache | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.settings = settings
        self.template = template
        self.cache = cache
        self.backend = plain_backend(tokenizer)
        # Tokens the tokenizer puts before any text (a BOS): kept when a prompt is cut.
        self.special_prefix = len(self._encode([""], add_special_tokens=True)[0])

    def _encode(self, texts: list[str], add_special_tokens: bool) -> list[list[int]]:
        """Token ids straight from the Rust tokenizer, without offsets or Python-side wrapping.

        The fast tokenizer's `__call__` converts every encoding to Python objects it does not
        need here; asking the backend for ids alone is about a third faster on instruction data.
        """
        encode = getattr(self.backend, "encode_batch_fast", self.backend.encode_batch)
        return [encoding.ids for encoding in encode(texts, add_special_tokens=add_special_tokens)]

    def __call__(self, batch: dict[str, list]) -> pa.Table:
        """The batch encoded (`ENCODED_FEATURES`), in order; records the cache holds are read back."""
        found = self.cache.found(batch["id"]) if self.cache is not None else np.zeros(len(batch["id"]), dtype=bool)
        if not found.any():
            return self._encode_batch(batch)
        hits, misses = np.flatnonzero(found), np.flatnonzero(~found)
        cached = self.cache.rows([batch["id"][index] for index in hits])
        parts = [
            pa.table(
                {
                    "id": pa.array([batch["id"][index] for index in hits], pa.string()),
                    "source": pa.array([batch["source"][index] for index in hits], pa.string()),
                    **{column: cached.column(column) for column in CACHED_COLUMNS},
                },
                schema=ENCODED_FEATURES.arrow_schema,
            )
        ]
        if misses.size:
            parts.append(
                self._encode_batch({column: [values[index] for index in misses] for column, values in batch.items()})
            )
        order = np.argsort(np.concatenate([hits, misses]), kind="stable")  # back to the batch's order
        return pa.concat_tables(parts).take(pa.array(order))

    def _encode_batch(self, batch: dict[str, list]) -> pa.Table:
        n = len(batch["id"])
        contents = [batch.get(name) or [None] * n for name in ("text", "input", "output", "messages")]
        conversations = [conversation_of(*values) for values in zip(*contents, strict=True)]
        is_text = [conversation is None for conversation in conversations]
        encoded: list[_Encoded | None] = [None] * n

        texts = [i for i in range(n) if is_text[i]]
        eos = self.tokenizer.eos_token_id
        # A text takes the tokenizer's own special tokens (a BOS for Llama-style models).
        for i, ids in zip(texts, self._encode([contents[0][i] for i in texts], add_special_tokens=True), strict=True):
            if ids and ids[-1] == eos:
                ids = ids[:-1]  # a post-processor that appends EOS itself; we add it once
            encoded[i] = _encode_text(ids, eos, self.settings)

        rendered = {}
        for i in range(n):
            if not is_text[i]:
                try:
                    rendered[i] = render_conversation(self.tokenizer, self.template.jinja, conversations[i])
                except ChatTemplateError as error:  # this record only: the template passed its check on load
                    encoded[i] = _Encoded([], (), 0, drop_reason=error.reason)
        # The rendered text tokenized once, without added special tokens: what apply_chat_template does.
        chats = list(rendered)
        encodings = self.backend.encode_batch([rendered[i].text for i in chats], add_special_tokens=False)
        for i, encoding in zip(chats, encodings, strict=True):
            spans = token_spans(encoding.offsets, rendered[i].assistant_spans)
            encoded[i] = _encode_conversation(encoding.ids, spans, self.settings, self.special_prefix)

        # Built as Arrow arrays from flat numpy ones: converting Python lists of ids to Arrow
        # would cost more than the tokenizer itself.
        lengths = np.fromiter((len(item.ids) for item in encoded), dtype=np.int64, count=n)
        flat_ids = np.fromiter(
            itertools.chain.from_iterable(item.ids for item in encoded), dtype=np.int32, count=int(lengths.sum())
        )
        learned = np.zeros(flat_ids.size, dtype=bool)
        for start, item in zip((np.cumsum(lengths) - lengths).tolist(), encoded, strict=True):
            for first, end in item.learned:
                learned[start + first : start + end] = True
        flat_labels = np.where(learned, flat_ids, IGNORE_INDEX).astype(np.int32)
        columns = {
            "id": pa.array(batch["id"], pa.string()),
            "source": pa.array(batch["source"], pa.string()),
            "input_ids": list_array(flat_ids, lengths),
            "attention_mask": list_array(np.ones(flat_ids.size, dtype=np.int8), lengths),
            "labels": list_array(flat_labels, lengths),
            DROP_COLUMN: pa.array([item.drop_reason for item in encoded], pa.string()),
            TRUNCATED_COLUMN: pa.array([item.truncated for item in encoded], pa.bool_()),
            LENGTH_COLUMN: pa.array(lengths, pa.int32()),
            FULL_LENGTH_COLUMN: pa.array([item.full_length for item in encoded], pa.int32()),
            TEXT_COLUMN: pa.array(is_text, pa.bool_()),
        }
        return pa.table(columns, schema=ENCODED_FEATURES.arrow_schema)


def list_array(flat: np.ndarray, lengths: np.ndarray) -> pa.ListArray:
    """Rows of `lengths` items each, cut from `flat` in order."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))


@dataclass(frozen=True)
class _Encoded:
    ids: list[int]
    learned: tuple[tuple[int, int], ...]
    """Token ranges whose labels are their ids; every other label is IGNORE_INDEX."""
    full_length: int
    """Tokens before any cut."""
    truncated: bool = False
    drop_reason: str = ""


def token_spans(offsets: list[tuple[int, int]], char_spans) -> list[tuple[int, int]]:
    """The token range of each character span: the tokens that overlap it (a token that straddles
    a span's edge belongs to the span, as in apply_chat_template's assistant mask)."""
    starts = np.fromiter((start for start, _ in offsets), dtype=np.int64, count=len(offsets))
    # A token of no width (a trimmed space) counts as covering the character it sits at.
    ends = np.maximum(np.fromiter((end for _, end in offsets), dtype=np.int64, count=len(offsets)), starts + 1)
    return [
        (int(np.searchsorted(ends, first, side="right")), int(np.searchsorted(starts, end, side="left")))
        for first, end in char_spans
    ]


def _encode_text(ids: list[int], eos: int, settings: TokenizeSettings) -> _Encoded:
    """`text + EOS`, every token a label. Packed texts are split across rows, never cut."""
    ids = ids + [eos]
    full = len(ids)
    if settings.packing or full <= settings.max_length:
        return _Encoded(ids, ((0, full),), full, drop_reason=_no_target_reason(len(ids) - 1))
    if settings.overlength == "drop":
        return _Encoded([], (), full, drop_reason=REASON_RECORD_TOO_LONG)
    # Cut at the end, EOS included: an EOS after a cut would teach the model to stop mid-sentence.
    ids = ids[: settings.max_length]
    return _Encoded(ids, ((0, len(ids)),), full, truncated=True, drop_reason=_no_target_reason(len(ids) - 1))


def _encode_conversation(
    ids: list[int], spans: list[tuple[int, int]], settings: TokenizeSettings, special_prefix: int
) -> _Encoded:
    """A rendered conversation with its assistant turns' token `spans`: one assistant turn goes
    through the prompt / response limits, several through `_encode_turns`."""
    if not spans:
        return _Encoded([], (), len(ids), drop_reason=REASON_NO_TARGET_TOKENS)
    if len(spans) == 1:
        first = spans[0][0]
        return _encode_supervised(ids[:first], ids[first:], settings, special_prefix)
    return _encode_turns(ids, spans, settings)


def _encode_supervised(
    prompt: list[int], response: list[int], settings: TokenizeSettings, special_prefix: int
) -> _Encoded:
    """`prompt + response` (the response closed by the template's end-of-turn marker) with the
    prompt masked, within source/target/row limits."""
    full = len(prompt) + len(response)
    drop = settings.overlength == "drop"
    everything = settings.learned == "everything"
    truncated = False
    if settings.source_max_len and len(prompt) > settings.source_max_len:
        if drop:
            return _Encoded([], (), full, drop_reason=REASON_PROMPT_TOO_LONG)
        prompt = _cut_prompt(prompt, settings.source_max_len, special_prefix)
        truncated = True
    if settings.target_max_len and len(response) > settings.target_max_len:
        if drop:
            return _Encoded([], (), full, drop_reason=REASON_RESPONSE_TOO_LONG)
        response = _cut_response(response, settings.target_max_len)
        truncated = True
    if len(prompt) >= settings.max_length and not everything:
        # Nothing of the response would fit: no policy can keep a record worth learning from.
        return _Encoded([], (), full, drop_reason=REASON_PROMPT_FILLS_MAX_LENGTH)
    if len(prompt) + len(response) > settings.max_length:
        if drop:
            return _Encoded([], (), full, drop_reason=REASON_RECORD_TOO_LONG)
        prompt = prompt[: settings.max_length]  # only when everything is learned can the prompt alone overflow
        response = _cut_response(response, settings.max_length - len(prompt))
        truncated = True
    ids = prompt + response
    learned = ((0, len(ids)),) if everything else ((len(prompt), len(ids)),)
    return _Encoded(ids, learned, full, truncated=truncated, drop_reason=_no_target_reason(_learned_labels(learned)))


def _encode_turns(ids: list[int], spans: list[tuple[int, int]], settings: TokenizeSettings) -> _Encoded:
    """A conversation of several assistant turns. Over `max_length` it is dropped, or cut after the
    last assistant turn that fits whole (so it still ends as a conversation does)."""
    full = len(ids)
    truncated = False
    if full > settings.max_length:
        if settings.overlength == "drop":
            return _Encoded([], (), full, drop_reason=REASON_RECORD_TOO_LONG)
        spans = [span for span in spans if span[1] <= settings.max_length]
        if not spans:
            return _Encoded([], (), full, drop_reason=REASON_NO_TURN_FITS)
        ids = ids[: spans[-1][1]]
        truncated = True
    learn = settings.learned
    learned = ((0, len(ids)),) if learn == "everything" else (spans[-1],) if learn == "last_assistant_turn" else spans
    return _Encoded(
        ids, tuple(learned), full, truncated=truncated, drop_reason=_no_target_reason(_learned_labels(learned))
    )


def _learned_labels(learned) -> int:
    """Learned labels after position 0 (nothing predicts position 0)."""
    return sum(max(0, end - max(first, 1)) for first, end in learned)


def _cut_prompt(prompt: list[int], limit: int, special_prefix: int) -> list[int]:
    """Keep the special prefix (BOS) and the prompt's *end*: the template's response marker sits there."""
    head = min(special_prefix, limit)
    return prompt[:head] + prompt[len(prompt) - (limit - head) :]


def _cut_response(response: list[int], limit: int) -> list[int]:
    """Keep the response's beginning; its EOS goes with the cut (the text did not end there)."""
    return response[:limit]


def _no_target_reason(learned_labels: int) -> str:
    """ "" when some label after position 0 enters the loss (nothing predicts position 0)."""
    return "" if learned_labels > 0 else REASON_NO_TARGET_TOKENS


def column_values(dataset: datasets.Dataset, name: str) -> list:
    """One column as a list, read in one batch (`dataset[name]` in datasets 4+ iterates row by row)."""
    return dataset.select_columns([name])[:][name]
