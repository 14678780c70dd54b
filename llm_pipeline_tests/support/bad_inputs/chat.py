"""Bad conversations (OpenAI `messages`, ShareGPT `conversations`) in JSONL, JSON and Parquet: each
file holds one good conversation, kept, and one the pipeline cannot train on, quarantined."""

from __future__ import annotations

import io
import json

from llm_pipeline_tests.support.bad_inputs.common import BadInput

GOOD = [
    {"role": "user", "content": "How often should I turn my compost heap?"},
    {
        "role": "assistant",
        "content": "Once a week keeps air in the middle, so the scraps rot down instead of going sour.",
    },
]
KEPT = "the scraps rot down instead of going sour"
QUESTION = {"role": "user", "content": "What is the weather in Munich?"}
ANSWER = {"role": "assistant", "content": "Cloudy and about fourteen degrees."}


def _lines(*conversations: list) -> bytes:
    return "".join(json.dumps({"messages": turns}) + "\n" for turns in (GOOD, *conversations)).encode()


def _turn(role: str, content: object) -> dict:
    return {"role": role, "content": content}


def _sharegpt_file() -> bytes:
    def shared(turns: list) -> dict:
        names = {"user": "human", "assistant": "gpt"}
        return {"conversations": [{"from": names[turn["role"]], "value": turn["content"]} for turn in turns]}

    return json.dumps([shared(GOOD), shared([*GOOD, QUESTION])], indent=2).encode()


def _parquet_file() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"messages": GOOD}, {"messages": None}, {"messages": [QUESTION, _turn("tool", "cloudy, 14 C"), ANSWER]}]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


TOOL_CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function"}]}

CHAT_INPUTS: list[BadInput] = [
    BadInput(
        "chat with a tool call",
        "jsonl/chat_tool_call.jsonl",
        lambda: _lines([QUESTION, TOOL_CALL, _turn("tool", '{"sky": "cloudy"}'), ANSWER]),
        keeps=KEPT,
        never_keeps="What is the weather in Munich?",
        reasons=("tool_turn",),
    ),
    BadInput(
        "chat with a speaker no role maps to",
        "jsonl/chat_unknown_role.jsonl",
        lambda: _lines([_turn("narrator", "It was a dark night."), ANSWER]),
        keeps=KEPT,
        reasons=("unknown_role",),
    ),
    BadInput(
        "chat whose turns do not alternate",
        "jsonl/chat_not_alternating.jsonl",
        lambda: _lines([QUESTION, QUESTION, ANSWER], [ANSWER, QUESTION, ANSWER]),
        keeps=KEPT,
        reasons=("turns_not_alternating",),
    ),
    BadInput(
        "chat with a system turn in the middle",
        "jsonl/chat_misplaced_system.jsonl",
        lambda: _lines([QUESTION, _turn("system", "Be brief."), ANSWER]),
        keeps=KEPT,
        reasons=("misplaced_system_turn",),
    ),
    BadInput(
        "chat without an assistant turn",
        "jsonl/chat_no_assistant.jsonl",
        lambda: _lines([_turn("system", "Be brief."), QUESTION]),
        keeps=KEPT,
        reasons=("no_assistant_turn",),
    ),
    BadInput(
        "chat with a blank or null turn",
        "jsonl/chat_empty_turn.jsonl",
        lambda: _lines([QUESTION, _turn("assistant", "  \n ")], [QUESTION, _turn("assistant", None)]),
        keeps=KEPT,
        reasons=("empty_turn",),
    ),
    BadInput(
        "chat with an image in a turn",
        "jsonl/chat_image.jsonl",
        lambda: _lines(
            [_turn("user", [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {}}]), ANSWER]
        ),
        keeps=KEPT,
        reasons=("non_text_content",),
    ),
    BadInput(
        "chat with a number or an object as content",
        "jsonl/chat_not_string.jsonl",
        lambda: _lines([QUESTION, _turn("assistant", 14)], [QUESTION, _turn("assistant", {"text": "cloudy"})]),
        keeps=KEPT,
        never_keeps="{'text': 'cloudy'}",
        reasons=("non_string_content",),
    ),
    BadInput(
        "chat whose turns are strings or lack a content key",
        "jsonl/chat_bad_turn.jsonl",
        lambda: _lines(["What is the weather?", "Cloudy."], [QUESTION, {"role": "assistant"}]),
        keeps=KEPT,
        reasons=("bad_turn",),
    ),
    BadInput(
        "chat with no turns",
        "jsonl/chat_no_turns.jsonl",
        lambda: _lines([]),
        keeps=KEPT,
        reasons=("no_turns",),
    ),
    BadInput(
        "ShareGPT array ending with an unanswered question",
        "json/chat_unanswered.json",
        _sharegpt_file,
        keeps=KEPT,
        reasons=("ends_with_user_turn",),
    ),
    BadInput(
        "Parquet chat with a null turn list and a tool turn",
        "parquet/chat.parquet",
        _parquet_file,
        keeps=KEPT,
        reasons=("no_turns", "tool_turn"),
    ),
]
