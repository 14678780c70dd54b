"""Conversations (OpenAI `messages`, ShareGPT `conversations`) -> chat records, or the reason not.

An object (a JSON line, an array element, a Parquet row) holding a list under one of the chat
keys is a conversation. Each turn names its speaker under a role key (`role`, `from`) and its
text under a content key (`content`, `value`); speakers map to `system`, `user`, `assistant`
(built-in OpenAI and ShareGPT names, plus the configured `roles`). A valid conversation is an
optional system turn, then user and assistant alternating from a user turn to an assistant
turn, every content a non-empty string. Anything else is refused with one of `REASONS`: a
record the pipeline cannot train on correctly is quarantined, never reshaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from llm_pipeline.parse.strict_json import json_type
from llm_pipeline.records import ROLES, Record
from llm_pipeline.setting import setting

BUILTIN_ROLES = {"system": "system", "user": "user", "assistant": "assistant", "human": "user", "gpt": "assistant"}
"""OpenAI's and ShareGPT's speaker names (compared case-folded)."""
TOOL_ROLES = frozenset({"tool", "function", "ipython", "function_call", "observation"})
"""Speakers of tool calls and their results (OpenAI, Llama 3, LLaMA-Factory's ShareGPT)."""
TOOL_CALL_KEYS = ("tool_calls", "function_call")
"""Keys of an OpenAI assistant turn that calls a tool."""
PREFERENCE_LABEL_KEYS = ("label", "kto_tag")
"""Keys of a KTO-style row whose `false` marks its answer as one to avoid (LLaMA-Factory, TRL)."""
PREFERENCE_PAIR_KEYS = ("chosen", "rejected")
"""Keys of a DPO-style row: two candidate answers, one preferred."""

REASONS = {
    "no_turns": "the list of turns is empty (or null)",
    "bad_turn": "a turn that is not an object, or has no role key or no content key",
    "unknown_role": "a speaker name that maps to no role (detail: the name and the turn)",
    "tool_turn": "a tool or function turn, or an assistant turn with tool_calls: tool calls are not trained on",
    "non_string_content": "a content that is a number, boolean or object instead of text",
    "non_text_content": "a list of content parts holding anything but text parts (an image, audio, a file)",
    "empty_turn": "a content that is null or blank",
    "misplaced_system_turn": "a system turn anywhere but first",
    "turns_not_alternating": "user and assistant turns not alternating from a user turn",
    "no_assistant_turn": "no assistant turn at all: nothing to learn",
    "ends_with_user_turn": "a last turn from the user, left unanswered",
    "undesirable_response": "a preference label (`label` or `kto_tag`) is false: the answer is one to avoid, and "
    "supervised fine-tuning would learn it",
    "preference_pair": "a `chosen` / `rejected` pair: preference data for DPO, not one conversation to learn",
}
"""Every reason a conversation is refused for, and what it means."""


class Refusal(NamedTuple):
    """Why a row is no record: one of `REASONS`, and a detail a person reads."""

    reason: str
    detail: str


@dataclass(frozen=True)
class ChatSettings:
    """How conversations are found and read: the key of the list of turns, each turn's keys, speaker names."""

    conversation_keys: tuple[str, ...] = setting(
        ("messages", "conversations"),
        "Keys (columns) whose list of turns makes an object a conversation; the first that holds a list wins. "
        "Empty: no conversation is read.",
    )
    role_keys: tuple[str, ...] = setting(("role", "from"), "Keys of a turn naming its speaker; the first present wins.")
    content_keys: tuple[str, ...] = setting(
        ("content", "value"), "Keys of a turn holding its text; the first present wins."
    )
    roles: Mapping[str, str] = setting(
        factory=dict,
        help="Your speaker names -> system, user or assistant (`{bot: assistant, model: assistant}`), on top of "
        "the built-in system, user, assistant, human (user) and gpt (assistant); names compare case-folded.",
    )

    def __post_init__(self) -> None:
        wrong = {name: role for name, role in self.roles.items() if role not in ROLES}
        if wrong:
            raise ValueError(f"chat roles must map to one of {list(ROLES)}, not {wrong}")

    def mapping_for(self, samples: Sequence[Mapping[str, object]]) -> ChatMapping | None:
        """The conversation mapping when a sample holds a list under a chat key, else None."""
        for key in self.conversation_keys:
            if any(isinstance(row.get(key), list) for row in samples):
                return ChatMapping(key, self)
        return None


@dataclass(frozen=True)
class ChatMapping:
    """Reads the conversation under `key` of each row."""

    key: str
    settings: ChatSettings

    def describe(self) -> str:
        return f"messages <- {self.key}"

    def to_record(self, row: Mapping[str, object], source: str, fmt: str) -> Record | Refusal:
        turns = row.get(self.key)
        label = next((row[key] for key in PREFERENCE_LABEL_KEYS if key in row), None)
        if label is False:
            return Refusal("undesirable_response", f"{next(k for k in PREFERENCE_LABEL_KEYS if k in row)} is false")
        if all(key in row for key in PREFERENCE_PAIR_KEYS):
            return Refusal("preference_pair", "the row holds a chosen and a rejected answer")
        if not isinstance(turns, list) or not turns:  # a Parquet row's null; lists elsewhere (`mapping_for`)
            return Refusal("no_turns", f"{self.key!r} is {'null' if turns is None else 'empty'}")
        names = {**BUILTIN_ROLES, **{name.casefold(): role for name, role in self.settings.roles.items()}}
        read = []
        for number, turn in enumerate(turns, start=1):
            result = self._turn(turn, number, names)
            if isinstance(result, Refusal):
                return result
            read.append(result)
        refusal = _order_refusal([turn["role"] for turn in read])
        return refusal or Record.chat(read, source, fmt)

    def _turn(self, turn: object, number: int, names: Mapping[str, str]) -> dict[str, str] | Refusal:
        if not isinstance(turn, dict):
            return Refusal("bad_turn", f"turn {number} is a {json_type(turn)}, not an object")
        role_key = next((key for key in self.settings.role_keys if key in turn), None)
        content_key = next((key for key in self.settings.content_keys if key in turn), None)
        name = turn.get(role_key) if role_key else None
        folded = name.strip().casefold() if isinstance(name, str) else None
        if (folded in TOOL_ROLES and folded not in names) or any(turn.get(key) for key in TOOL_CALL_KEYS):
            return Refusal("tool_turn", f"turn {number} ({name}) is a tool call or its result")
        if role_key is None or content_key is None:
            missing = "role" if role_key is None else "content"
            keys = self.settings.role_keys if role_key is None else self.settings.content_keys
            return Refusal("bad_turn", f"turn {number} has no {missing} key (looked for {list(keys)}): {sorted(turn)}")
        if folded not in names:
            return Refusal("unknown_role", f"turn {number}: {name!r} (known: {sorted(names)}; map it in `chat.roles`)")
        content = _content(turn[content_key], number)
        if isinstance(content, Refusal):
            return content
        return {"role": names[folded], "content": content}


def _content(value: object, number: int) -> str | Refusal:
    """The text of a turn. OpenAI content parts are joined as a chat template renders them: the
    text parts one after another."""
    if isinstance(value, list):
        if not all(isinstance(part, dict) and part.get("type") == "text" for part in value):
            kinds = sorted({str(part.get("type")) if isinstance(part, dict) else json_type(part) for part in value})
            return Refusal("non_text_content", f"turn {number} has content parts {kinds}, not only text")
        if not all(isinstance(part.get("text"), str) for part in value):
            return Refusal("non_string_content", f"turn {number} has a text part whose text is not a string")
        value = "".join(part["text"] for part in value)
    if value is not None and not isinstance(value, str):
        return Refusal("non_string_content", f"turn {number} content is a {json_type(value)}")
    text = (value or "").strip()
    return text if text else Refusal("empty_turn", f"turn {number} has no text")


def _order_refusal(roles: Sequence[str]) -> Refusal | None:
    """Why the sequence of roles is no trainable conversation, or None."""
    for number, role in enumerate(roles, start=1):
        if role == "system" and number > 1:
            return Refusal("misplaced_system_turn", f"turn {number} is a system turn; only turn 1 may be")
    dialogue = roles[1:] if roles[0] == "system" else roles
    offset = len(roles) - len(dialogue)
    for index, role in enumerate(dialogue):
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            return Refusal("turns_not_alternating", f"turn {index + offset + 1} is {role}, expected {expected}")
    if "assistant" not in dialogue:
        return Refusal("no_assistant_turn", f"{len(roles)} turns, none from the assistant")
    if dialogue[-1] == "user":
        return Refusal("ends_with_user_turn", f"turn {len(roles)} is a user turn without an answer")
    return None
