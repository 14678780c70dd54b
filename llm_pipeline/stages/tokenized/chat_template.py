"""Chat templates: which Jinja template renders a conversation, and where its assistant turns lie.

Every supervised and chat record is rendered through one template, the one saved with the
tokenizer of every checkpoint and of the merged model, so `tokenizer.apply_chat_template(messages)`
gives back the tokens training saw. The `chat_template` setting picks it (`resolve_chat_template`):

- `auto`: the base tokenizer's own template; else `chatml` when the tokenizer has the ChatML
  tokens; else `instruction`;
- `chatml`: `<|im_start|>role\\ncontent<|im_end|>\\n` per turn (needs those two tokens);
- `instruction`: the `prompt_template` layout (a user turn is the template with `{input}` = its
  content, an assistant turn its content + EOS, a system turn its content and a blank line), so a
  model with neither a template nor ChatML tokens needs no new token;
- anything else: a Jinja template of its own.

The learned spans are found by rendering prefixes (`render_conversation`): assistant turn k starts
where `render(messages[:k], add_generation_prompt=True)` ends and ends where `render(messages[:k+1])`
ends. That holds only for a prefix-stable template, whose every prefix render begins the full
render; one that is not is refused on load (`check_template`) or, for one record, quarantined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

AUTO, CHATML, INSTRUCTION = "auto", "chatml", "instruction"
IM_START, IM_END = "<|im_start|>", "<|im_end|>"

CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Reasons a record is quarantined for its template (see `ChatTemplateError`).
REASON_TEMPLATE_FAILED = "chat_template_failed"
REASON_NOT_PREFIX_STABLE = "chat_template_not_prefix_stable"

# Rendered on load to check a template, and shown in the model card.
EXAMPLE_CONVERSATION = (
    {"role": "user", "content": "What do bees make?"},
    {"role": "assistant", "content": "Honey and wax."},
    {"role": "user", "content": "And what do they eat?"},
    {"role": "assistant", "content": "Nectar and pollen."},
)

_SLOT = "\x00input\x00"
"""Stands for `{input}` while the prompt template is cut into the pieces around it."""


class ChatTemplateError(ValueError):
    """A template that cannot render a conversation, or whose prefix renders do not begin the full one."""

    def __init__(self, message: str, reason: str = REASON_TEMPLATE_FAILED) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ChatTemplate:
    name: str
    """chatml | instruction | "the base tokenizer's own" | custom: how it was chosen, for people."""
    jinja: str


@dataclass(frozen=True)
class RenderedConversation:
    text: str
    assistant_spans: tuple[tuple[int, int], ...]
    """Character spans of the assistant turns: content and end-of-turn marker, not the role header."""


def resolve_chat_template(tokenizer, chat_template: str, prompt_template: str, system_prompt: str = "") -> ChatTemplate:
    """The template the `chat_template` setting names for this tokenizer, with `system_prompt` (when
    set) as the system turn of conversations that have none; checked by `check_template`."""
    if chat_template == AUTO:
        own = own_template(tokenizer)
        if own is not None:
            chosen = ChatTemplate("the base tokenizer's own", own)
        elif has_chatml_tokens(tokenizer):
            chosen = ChatTemplate(CHATML, CHATML_TEMPLATE)
        else:
            chosen = ChatTemplate(INSTRUCTION, instruction_template(prompt_template, starts_with_bos(tokenizer)))
    elif chat_template == CHATML:
        if not has_chatml_tokens(tokenizer):
            raise ChatTemplateError(
                f"chat_template: chatml needs the {IM_START} and {IM_END} tokens, which this tokenizer does not have "
                "(they would be split into pieces of text); use chat_template: auto or instruction, or a base model "
                "that has them"
            )
        chosen = ChatTemplate(CHATML, CHATML_TEMPLATE)
    elif chat_template == INSTRUCTION:
        chosen = ChatTemplate(INSTRUCTION, instruction_template(prompt_template, starts_with_bos(tokenizer)))
    else:
        chosen = ChatTemplate("custom", chat_template)
    if system_prompt:
        chosen = ChatTemplate(chosen.name, with_default_system(chosen.jinja, system_prompt))
    check_template(tokenizer, chosen)
    return chosen


def own_template(tokenizer) -> str | None:
    """The tokenizer's default chat template, if it has one."""
    template = tokenizer.chat_template
    if isinstance(template, dict):  # named templates: the default one is what apply_chat_template uses
        template = template.get("default")
    return template or None


def has_chatml_tokens(tokenizer) -> bool:
    """Whether `<|im_start|>` and `<|im_end|>` are single tokens of the vocabulary (added tokens)."""
    added = {token.content for token in tokenizer.added_tokens_decoder.values()}
    return IM_START in added and IM_END in added


def starts_with_bos(tokenizer) -> bool:
    """Whether the tokenizer puts a BOS before every text itself (a Llama-style post-processor):
    the instruction template then writes it, since chat templates are tokenized without it."""
    prefix = tokenizer("", add_special_tokens=True)["input_ids"]
    return tokenizer.bos_token_id is not None and prefix[:1] == [tokenizer.bos_token_id]


def instruction_template(prompt_template: str, bos: bool) -> str:
    """The `prompt_template` layout as a chat template: a single-turn record renders as today's
    `prompt_template.format(input=...) + output + EOS` (with the tokenizer's own BOS in front)."""
    pieces = prompt_template.format(input=_SLOT).split(_SLOT)  # `.format` semantics: `{{` is a brace
    user = " ~ message['content'] ~ ".join(_literal(piece) for piece in pieces)
    return (
        ("{{- bos_token }}" if bos else "")
        + "{%- for message in messages %}"
        + "{%- if message['role'] == 'system' %}{{- message['content'] ~ '\\n\\n' }}"
        + "{%- elif message['role'] == 'user' %}{{- "
        + user
        + " }}"
        + "{%- else %}{{- message['content'] ~ eos_token }}"
        + "{%- endif %}"
        + "{%- endfor %}"
    )


def with_default_system(template: str, system_prompt: str) -> str:
    """`template` with `system_prompt` as the first turn of a conversation that has no system turn:
    part of the saved template, so that apply_chat_template adds it just as training did."""
    system = "{'role': 'system', 'content': " + _literal(system_prompt) + "}"
    return (
        "{%- if messages and messages[0]['role'] != 'system' %}"
        "{%- set messages = [" + system + "] + messages %}"
        "{%- endif %}" + template
    )


def _literal(text: str) -> str:
    """`text` as a Jinja string literal (Jinja reads Python-style escapes; non-ASCII stays as it is)."""
    return json.dumps(text, ensure_ascii=False)


def render(tokenizer, template: str, messages, add_generation_prompt: bool = False) -> str:
    """`messages` rendered as `apply_chat_template(..., tokenize=False)` renders them."""
    import jinja2

    try:
        return tokenizer.apply_chat_template(
            list(messages), chat_template=template, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError) as error:
        raise ChatTemplateError(f"the chat template failed to render: {type(error).__name__}: {error}") from error


def render_conversation(tokenizer, template: str, messages) -> RenderedConversation:
    """The full render of `messages` and the character span of each assistant turn, found by
    rendering prefixes; ChatTemplateError when a prefix render does not begin the full one."""
    messages = list(messages)
    text = render(tokenizer, template, messages)
    spans = []
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(tokenizer, template, messages[:k], add_generation_prompt=True)
        turn = text if k == len(messages) - 1 else render(tokenizer, template, messages[: k + 1])
        if not (text.startswith(prompt) and text.startswith(turn) and turn.startswith(prompt)):
            raise ChatTemplateError(
                f"the chat template is not prefix-stable: rendering the first {k} turns (with the generation "
                f"prompt) or the first {k + 1} does not give the beginning of the whole conversation's render, "
                "so the assistant turns cannot be found in it",
                REASON_NOT_PREFIX_STABLE,
            )
        spans.append((len(prompt), len(turn)))
    return RenderedConversation(text, tuple(spans))


def check_template(tokenizer, template: ChatTemplate) -> None:
    """Refuse a template that cannot render `EXAMPLE_CONVERSATION`, is not prefix-stable on it, or
    does not put each assistant turn's content inside that turn's span."""
    try:
        rendered = render_conversation(tokenizer, template.jinja, EXAMPLE_CONVERSATION)
    except ChatTemplateError as error:
        raise ChatTemplateError(f"chat_template ({template.name}): {error}", error.reason) from error
    replies = [message["content"] for message in EXAMPLE_CONVERSATION if message["role"] == "assistant"]
    spans = rendered.assistant_spans  # one per assistant turn, by construction
    if not all(reply in rendered.text[start:end] for reply, (start, end) in zip(replies, spans, strict=True)):
        raise ChatTemplateError(
            f"chat_template ({template.name}): an assistant turn's content is not where its turn renders "
            f"(a two-turn example conversation rendered as {rendered.text!r})"
        )


def conversation_of(text: str | None, input: str | None, output: str | None, messages) -> list[dict] | None:
    """The conversation a record is trained as: its chat turns, or [user: input, assistant: output]
    for a supervised record; None for an unsupervised text (no template)."""
    if messages is not None:
        return [{"role": turn["role"], "content": turn["content"]} for turn in messages]
    if text is not None:
        return None
    return [{"role": "user", "content": input or ""}, {"role": "assistant", "content": output or ""}]


def prompt_ids(tokenizer, messages) -> list[int]:
    """A conversation that ends with a user turn as the ids the model's reply follows: through the
    tokenizer's own template up to where the answer begins (its generation prompt), tokenized as
    training was. What evaluation and `llm-pipeline generate` give the model."""
    template = own_template(tokenizer)
    if template is None:
        raise ChatTemplateError("the tokenizer has no chat template: it is not one the tokenized stage saved")
    text = render(tokenizer, template, messages, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def text_ids(tokenizer, text: str) -> list[int]:
    """A text for a model to continue (no template: texts are trained as they are): with the
    tokenizer's own special tokens in front (a BOS), without the EOS some post-processors close
    every text with."""
    ids = tokenizer(text, add_special_tokens=True)["input_ids"]
    return ids[:-1] if ids and ids[-1] == tokenizer.eos_token_id else ids


def rendered_example(tokenizer) -> str:
    """`EXAMPLE_CONVERSATION` through the tokenizer's own template, as a model card shows it."""
    return render(tokenizer, own_template(tokenizer), EXAMPLE_CONVERSATION)


def save_tokenizer(tokenizer, template: ChatTemplate, folder: Path) -> None:
    """Save `tokenizer` with `template` as its chat template (the trainer loads it from here), leaving
    the caller's tokenizer as it was."""
    previous = tokenizer.chat_template
    tokenizer.chat_template = template.jinja
    try:
        tokenizer.save_pretrained(str(folder))
    finally:
        tokenizer.chat_template = previous
