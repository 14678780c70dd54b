"""Bad JSONL files."""

from __future__ import annotations

import codecs
import json

from llm_pipeline_tests.support.bad_inputs.common import ARTICLE, BadInput

HUGE_LINE_BYTES = 50 * 1024 * 1024


def _huge_line() -> bytes:
    sentence = "A very long note about compost heaps and garden soil. "
    text = sentence * (HUGE_LINE_BYTES // len(sentence))
    return json.dumps({"text": text}).encode() + b"\n"


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
]
