"""Conversations (OpenAI `messages`, ShareGPT `conversations`) in JSONL, JSON arrays and Parquet:
each becomes a chat record, or a rejection with its specific reason and source."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llm_pipeline.records import Record, Rejection, content_id
from llm_pipeline.stages.plaintext.chat import REASONS, ChatSettings
from llm_pipeline.stages.plaintext.formats import json as json_format
from llm_pipeline.stages.plaintext.formats import jsonl, parquet
from llm_pipeline.stages.plaintext.read import read_raw_file
from llm_pipeline.stages.plaintext.report import IngestReport
from llm_pipeline.stages.plaintext.settings import PlaintextSettings

TURNS = [
    ("system", "You answer questions about bread."),
    ("user", "Why does dough need to rest?"),
    ("assistant", "Resting lets the gluten relax, so the dough stretches without tearing."),
    ("user", "How long should it rest?"),
    ("assistant", "Twenty to thirty minutes at room temperature is enough for most doughs."),
]
SHAREGPT_NAMES = {"system": "system", "user": "human", "assistant": "gpt"}


def openai(turns) -> dict:
    return {"messages": [{"role": role, "content": content} for role, content in turns]}


def sharegpt(turns) -> dict:
    return {"conversations": [{"from": SHAREGPT_NAMES[role], "value": content} for role, content in turns]}


def write(tmp_path, fmt: str, objects: list[dict]):
    """The objects as a raw file of `fmt`: JSON lines, one JSON array, or Parquet rows."""
    path = tmp_path / f"chat.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(obj) + "\n" for obj in objects))
    elif fmt == "json":
        path.write_text(json.dumps(objects, indent=2))
    else:
        pq.write_table(pa.Table.from_pylist(objects), path)
    return path


def read(path, fmt: str, settings: PlaintextSettings | None = None):
    report = IngestReport()
    items = list(read_raw_file(path, f"{fmt}/{path.name}", fmt, settings or PlaintextSettings(), report))
    records = [item for item in items if isinstance(item, Record)]
    return records, [item for item in items if isinstance(item, Rejection)], report


FORMATS = ["jsonl", "json", "parquet"]
UNIT = {"jsonl": "line", "json": "item", "parquet": "row"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", [openai, sharegpt])
def test_both_shapes_become_the_same_chat_record_in_every_format(tmp_path, fmt, shape):
    records, rejections, report = read(write(tmp_path, fmt, [shape(TURNS), shape(TURNS[1:3])]), fmt)
    assert not rejections
    [whole, short] = records
    assert [(turn["role"], turn["content"]) for turn in whole.messages] == TURNS
    assert (whole.text, whole.input, whole.output, whole.format) == (None, None, None, fmt)
    assert whole.source == f"{fmt}/chat.{fmt} {UNIT[fmt]} 1" and short.source == f"{fmt}/chat.{fmt} {UNIT[fmt]} 2"
    # The id is the content's: OpenAI and ShareGPT spellings of one conversation are one record.
    assert whole.id == content_id("messages", *(part for turn in TURNS for part in turn))
    assert short.id == Record.chat(openai(TURNS[1:3])["messages"], "elsewhere", "csv").id
    key = "messages" if shape is openai else "conversations"
    assert report.mappings[f"{fmt}/chat.{fmt}"] == f"messages <- {key}"


def test_the_record_reads_its_prompt_response_and_content_from_the_turns():
    record = Record.chat(openai(TURNS)["messages"], "s", "jsonl")
    assert record.prompt == "Why does dough need to rest?"  # the first user turn: the split key
    assert record.response == "Twenty to thirty minutes at room temperature is enough for most doughs."
    assert record.responses == [TURNS[2][1], TURNS[4][1]] and record.is_chat and record.is_supervised
    assert record.content == "\n\n".join(f"{role}: {content}" for role, content in TURNS)
    assert Record.from_dict(record.to_dict()) == record


def test_a_chat_id_differs_from_a_text_or_pair_of_the_same_strings():
    chat = Record.chat([{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}], "s", "jsonl")
    others = {
        Record.supervised("Q?", "A.", "s", "jsonl").id,
        Record.supervised("user", "Q?", "s", "jsonl").id,
        Record.unsupervised("user: Q?\n\nassistant: A.", "s", "jsonl").id,
        content_id("user", "Q?", "assistant", "A."),
    }
    assert chat.id not in others and len(others) == 4


def _turn(role, content):
    return {"role": role, "content": content}


USER, ANSWER = _turn("user", "Is it going to rain?"), _turn("assistant", "Take an umbrella to be safe.")
TOOL_CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]}
# One conversation per reason: the turns, and a piece of the detail it must carry.
REFUSED = {
    "no_turns": ([], "empty"),
    "bad_turn": ([USER, "a string turn"], "turn 2 is a string"),
    "unknown_role": ([_turn("narrator", "Once upon a time."), ANSWER], "'narrator'"),
    "tool_turn": ([USER, TOOL_CALL, _turn("tool", "rain: 80%"), ANSWER], "turn 2"),
    "non_string_content": ([USER, _turn("assistant", 42)], "number"),
    "non_text_content": (
        [_turn("user", [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {}}]), ANSWER],
        "image_url",
    ),
    "empty_turn": ([USER, _turn("assistant", "   ")], "turn 2"),
    "misplaced_system_turn": ([USER, _turn("system", "Be brief."), ANSWER], "turn 2"),
    "turns_not_alternating": ([USER, USER, ANSWER], "turn 2 is user, expected assistant"),
    "no_assistant_turn": ([_turn("system", "Be brief."), USER], "none from the assistant"),
    "ends_with_user_turn": ([USER, ANSWER, USER], "turn 3"),
    # Preference data (KTO's label, DPO's pair): an answer marked as one to avoid is not learned.
    "undesirable_response": ([USER, ANSWER], "label is false", {"label": False}),
    "preference_pair": ([USER], "chosen and a rejected", {"chosen": ANSWER, "rejected": ANSWER}),
}


def test_every_documented_reason_has_a_case():
    assert set(REFUSED) == set(REASONS)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_each_invalid_conversation_is_quarantined_with_its_reason_and_line(tmp_path, fmt):
    objects = [{"messages": turns, **(extra[0] if extra else {})} for turns, _, *extra in REFUSED.values()]
    objects.append({"messages": [USER, ANSWER], "label": True})  # a desirable answer is learned
    records, rejections, report = read(write(tmp_path, fmt, objects), fmt)
    assert [record.source for record in records] == [f"{fmt}/chat.{fmt} {UNIT[fmt]} {len(objects)}"]
    assert [(r.reason, r.source, r.stage) for r in rejections] == [
        (reason, f"{fmt}/chat.{fmt} {UNIT[fmt]} {number}", "plaintext") for number, reason in enumerate(REFUSED, 1)
    ]
    for rejection, (_, detail, *_) in zip(rejections, REFUSED.values(), strict=True):
        assert detail in rejection.detail, (rejection.reason, rejection.detail)
    assert sum(report.rejected.values()) == len(REFUSED)


def test_a_parquet_row_without_turns_or_with_a_tool_turn_is_quarantined(tmp_path):
    rows = [
        {"messages": [USER, ANSWER]},
        {"messages": None},
        {"messages": [_turn("user", "Weather?"), _turn("tool", "sunny"), ANSWER]},
    ]
    records, rejections, _ = read(write(tmp_path, "parquet", rows), "parquet")
    assert [record.messages for record in records] == [(USER, ANSWER)]
    assert [(r.reason, r.source) for r in rejections] == [
        ("no_turns", "parquet/chat.parquet row 2"),
        ("tool_turn", "parquet/chat.parquet row 3"),
    ]


def test_text_content_parts_are_joined_as_a_chat_template_renders_them(tmp_path):
    parts = [{"type": "text", "text": "Translate "}, {"type": "text", "text": "'good morning' to French."}]
    [record], _, _ = read(write(tmp_path, "jsonl", [{"messages": [_turn("user", parts), ANSWER]}]), "jsonl")
    assert record.prompt == "Translate 'good morning' to French."


def test_role_names_and_keys_are_mapped_from_config(tmp_path):
    conversation = {
        "dialogue": [
            {"speaker": "Customer", "text": "My parcel has not arrived."},
            {"speaker": "bot", "text": "Sorry to hear that. Could you give me the tracking number?"},
        ]
    }
    path = write(tmp_path, "jsonl", [conversation, {"messages": [_turn("user", "Hi"), _turn("model", "Hello!")]}])
    _, unmapped, _ = read(path, "jsonl")
    assert [r.reason for r in unmapped] == ["no_text_fields", "unknown_role"]  # defaults: neither is known
    chat = ChatSettings(
        conversation_keys=("dialogue", "messages"),
        role_keys=("speaker", "role"),
        content_keys=("text", "content"),
        roles={"customer": "user", "Bot": "assistant", "model": "assistant"},
    )
    records, rejections, _ = read(path, "jsonl", PlaintextSettings(jsonl=jsonl.Settings(chat=chat)))
    assert not rejections
    assert [[turn["role"] for turn in record.messages] for record in records] == [["user", "assistant"]] * 2
    assert records[0].prompt == "My parcel has not arrived."


def test_json_and_parquet_read_their_own_chat_settings(tmp_path):
    rows = [{"turns": [{"role": "user", "content": "Hi"}, {"role": "bot", "content": "Hello!"}]}]
    chat = ChatSettings(conversation_keys=("turns",), roles={"bot": "assistant"})
    settings = PlaintextSettings(json=json_format.Settings(chat=chat), parquet=parquet.Settings(chat=chat))
    for fmt in ("json", "parquet"):
        records, rejections, _ = read(write(tmp_path, fmt, rows), fmt, settings)
        assert not rejections and records[0].response == "Hello!"


def test_a_role_must_map_to_system_user_or_assistant():
    with pytest.raises(ValueError, match="chat roles must map to one of"):
        ChatSettings(roles={"bot": "robot"})


def test_no_conversation_keys_turns_chat_reading_off(tmp_path):
    path = write(tmp_path, "jsonl", [{"messages": [USER, ANSWER]}])
    _, rejections, _ = read(
        path, "jsonl", PlaintextSettings(jsonl=jsonl.Settings(chat=ChatSettings(conversation_keys=())))
    )
    assert [r.reason for r in rejections] == ["no_text_fields"]
