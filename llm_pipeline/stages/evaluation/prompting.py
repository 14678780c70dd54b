"""How the evaluation writes the prompts both models answer: through the tuned model's chat template.

The tokenizer the tokenized stage saved (and training passed on to the merged model) carries the
template training used, so a prompt here is the ids training put before an answer. Base and
tuned model get the same ids. A conversation asks its last user turn after the turns before it;
an unsupervised text is continued from its opening words.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_pipeline.records import Record
from llm_pipeline.stages.tokenized.chat_template import prompt_ids, text_ids

PROMPT_WORDS, REFERENCE_WORDS = 12, 40  # a text's opening, and how much of its continuation is the reference


@dataclass(frozen=True)
class Prompt:
    shown: str
    """What a person reads in the generations table: the user's last words, or a text's opening."""
    ids: list[int]
    """What both models are given."""
    reference: str = ""


def user_prompt(tokenizer, text: str, reference: str = "") -> Prompt:
    """One user turn, answered as training taught."""
    return Prompt(text, prompt_ids(tokenizer, [{"role": "user", "content": text}]), reference)


def record_prompt(tokenizer, record: Record) -> Prompt:
    """A validation record as a prompt and its reference: a conversation without its last assistant
    turn, a pair's input, or a text's opening (continued without a template, as it was trained)."""
    if record.is_chat:
        turns = [{"role": turn["role"], "content": turn["content"]} for turn in record.messages]
        return Prompt(turns[-2]["content"], prompt_ids(tokenizer, turns[:-1]), turns[-1]["content"])
    if record.is_supervised:
        return user_prompt(tokenizer, record.input, record.output)
    words = record.text.split()
    cut = min(PROMPT_WORDS, max(1, len(words) // 2))
    opening = " ".join(words[:cut])
    return Prompt(opening, text_ids(tokenizer, opening), " ".join(words[cut : cut + REFERENCE_WORDS]))
