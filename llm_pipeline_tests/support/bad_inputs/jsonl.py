"""Bad JSONL files."""

from __future__ import annotations

import codecs
import json

from llm_pipeline_tests.support.bad_inputs.common import ARTICLE, BadInput

HUGE_LINE_BYTES = 50 * 1024 * 1024
JSON_NESTING_DEPTH = 100_000


def _huge_line() -> bytes:
    sentence = "A very long note about compost heaps and garden soil. "
    text = sentence * (HUGE_LINE_BYTES // len(sentence))
    return json.dumps({"text": text}).encode() + b"\n"


def _deeply_nested_line() -> bytes:
    nested = "[" * JSON_NESTING_DEPTH + "]" * JSON_NESTING_DEPTH
    return f'{{"text": {nested}}}\n{json.dumps({"text": ARTICLE})}\n'.encode()


JSONL_INPUTS: list[BadInput] = [
    BadInput(
        "JSONL with a broken line",
        "jsonl/broken.jsonl",
        lambda: (json.dumps({"text": ARTICLE}) + '\n{"text": "no closing brace"\n').encode(),
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with invalid UTF-8",
        "jsonl/invalid_utf8.jsonl",
        lambda: json.dumps({"text": ARTICLE}).encode() + b'\n{"text": "caf\xe9 \xff\xfe"}\n',
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with a raw NUL byte",
        "jsonl/nul.jsonl",
        lambda: json.dumps({"text": ARTICLE}).encode() + b'\n{"text": "a raw\x00 NUL inside a string"}\n',
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL line that is an array",
        "jsonl/array_line.jsonl",
        lambda: (json.dumps({"text": ARTICLE}) + '\n["an", "array", "not", "an", "object"]\n').encode(),
        keeps="Compost needs air",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL objects without a text field",
        "jsonl/no_text.jsonl",
        lambda: b'{"id": 1, "score": 0.5}\n{"id": 2, "score": 0.25}\n',
        reasons=("no_text_fields",),
    ),
    BadInput(
        "JSONL text that is not a string",
        "jsonl/not_string.jsonl",
        lambda: (
            json.dumps({"text": ARTICLE}) + '\n{"text": 42}\n{"text": null}\n{"text": {"nested": "object"}}\n'
        ).encode(),
        keeps="Compost needs air",
        never_keeps="{'nested': 'object'}",
        reasons=("nested_value",),
    ),
    BadInput("zero-byte JSONL", "jsonl/zero.jsonl", lambda: b"", reasons=("empty_file",)),
    BadInput("JSONL of blank lines only", "jsonl/blank_lines.jsonl", lambda: b"\n\n   \n", reasons=("no_records",)),
    BadInput(
        "JSONL in UTF-16 without a BOM",
        "jsonl/utf16.jsonl",
        lambda: (json.dumps({"text": ARTICLE}) + "\n").encode("utf-16-le"),
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with a UTF-8 BOM",
        "jsonl/bom.jsonl",
        lambda: codecs.BOM_UTF8 + json.dumps({"text": ARTICLE}).encode() + b"\n",
        keeps="Compost needs air",
    ),
    BadInput(
        "50 MB on a single line",
        "jsonl/huge_line.jsonl",
        _huge_line,
        keeps="A very long note about compost",
        on_its_own=True,
    ),
    BadInput(
        f"JSONL line nested {JSON_NESTING_DEPTH:,} levels deep",
        "jsonl/deep.jsonl",
        _deeply_nested_line,
        keeps="Compost needs air",  # the line after it
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with NaN and Infinity (not JSON)",
        "jsonl/nan.jsonl",
        lambda: (
            json.dumps({"text": ARTICLE})
            + '\n{"text": "Tides turn twice a day, pulled by the moon.", "score": NaN}\n'
            + '{"text": Infinity}\n{"text": -Infinity}\n'
        ).encode(),
        keeps="Compost needs air",
        never_keeps="Tides turn twice a day",
        reasons=("bad_json_line",),
    ),
    BadInput(
        "JSONL with a boolean answer",
        "jsonl/boolean.jsonl",
        lambda: b'{"instruction": "Is a compost heap alive with microbes?", "output": true}\n',
        keeps="Is a compost heap alive with microbes?\ntrue",
        never_keeps="microbes?\nTrue",
    ),
    BadInput(
        "JSONL object holding a key twice",
        "jsonl/duplicate_key.jsonl",
        lambda: (
            json.dumps({"text": ARTICLE})
            + '\n{"text": "The first value of the key.", "text": "The second value, kept silently by json."}\n'
        ).encode(),
        keeps="Compost needs air",
        never_keeps="kept silently by json",
        reasons=("duplicate_key",),
    ),
    BadInput(
        "JSON array where one element holds a key twice and another NaN",
        "json/two_bad_elements.json",
        lambda: (
            "[\n"
            + json.dumps({"text": ARTICLE})
            + ',\n{"text": "The first value.", "text": "The second value, kept silently by json."}'
            + ',\n{"text": "A score that is no JSON number.", "score": NaN}\n]'
        ).encode(),
        keeps="Compost needs air",  # the good element is not lost with the two bad ones
        never_keeps="kept silently by json",
        reasons=("duplicate_key", "bad_json_item"),
    ),
]
