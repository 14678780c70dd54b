"""Chat templates: which one `chat_template` picks, that a bad one is refused, and what chat records become.

The rows are compared with what `tokenizer.apply_chat_template` gives for the same conversation, so
a user holding the saved tokenizer reproduces the tokens and the masked prompts exactly.
"""

from __future__ import annotations

import copy
import json

import datasets
import pytest
from transformers import AutoTokenizer

from llm_pipeline.records import content_id
from llm_pipeline.stages.tokenized.chat_template import (
    CHATML_TEMPLATE,
    REASON_NOT_PREFIX_STABLE,
    ChatTemplateError,
    prompt_ids,
    resolve_chat_template,
    save_tokenizer,
)
from llm_pipeline.stages.tokenized.encode import REASON_NO_TURN_FITS, REASON_RECORD_TOO_LONG
from llm_pipeline.stages.tokenized.run import tokenize_splits
from llm_pipeline.stages.tokenized.settings import DEFAULT_PROMPT_TEMPLATE, TokenizeSettings
from llm_pipeline.stages.tokenized.version import chat_template_of, tokenization_fingerprint
from llm_pipeline.token_rows import IGNORE_INDEX
from llm_pipeline_tests.support.tiny import SENTENCES

MESSAGES = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
FEATURES = datasets.Features(
    {
        **{name: datasets.Value("string") for name in ("id", "source", "format", "text", "input", "output")},
        "messages": MESSAGES,
    }
)

CHAT = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "What do bees make?"},
    {"role": "assistant", "content": "Honey and wax."},
    {"role": "user", "content": "What do they eat?"},
    {"role": "assistant", "content": "Nectar and pollen from flowers."},
]
QA = ("Why is the sky blue?", "Air scatters blue light more than red light.")
TEXT = "The river rose overnight and flooded the lower fields."

# Zephyr's layout, as a base tokenizer's own template.
ZEPHYR = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)


def chat_row(messages, source="chat.jsonl:0") -> dict:
    return {
        "id": content_id(json.dumps(messages)),
        "source": source,
        "format": "jsonl",
        "text": None,
        "input": None,
        "output": None,
        "messages": messages,
    }


def qa_row(question=QA[0], answer=QA[1]) -> dict:
    row = {"id": content_id(question, answer), "source": "qa.jsonl:0", "format": "jsonl", "text": None}
    return {**row, "input": question, "output": answer, "messages": None}


def text_row(text=TEXT) -> dict:
    row = {"id": content_id(text), "source": "notes.txt:0", "format": "jsonl", "text": text}
    return {**row, "input": None, "output": None, "messages": None}


def splits(*rows: dict) -> datasets.DatasetDict:
    train = datasets.Dataset.from_list(list(rows), features=FEATURES)
    return datasets.DatasetDict({"train": train, "validation": train.select([])})


def unpacked(**overrides) -> TokenizeSettings:
    return TokenizeSettings(**{"packing": False, "max_length": 256, **overrides})


def rows_by_id(tokenized, split="train") -> dict[str, dict]:
    return {row["id"]: row for row in tokenized[split]}


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def plain_tokenizer():
    """A byte-level BPE tokenizer with no chat template and no ChatML tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from llm_pipeline.stages.base_model.tiny import SPECIAL_TOKENS

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=list(SPECIAL_TOKENS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(SENTENCES, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, **SPECIAL_TOKENS)


def with_template(tokenizer, template: str):
    own = copy.deepcopy(tokenizer)
    own.chat_template = template
    return own


def learned_spans(tokenizer, messages, template) -> list[tuple[int, int]]:
    """Token ranges of the assistant turns, from apply_chat_template of the prefixes alone."""
    spans = []
    for k, message in enumerate(messages):
        if message["role"] == "assistant":
            start = len(
                tokenizer.apply_chat_template(messages[:k], chat_template=template, add_generation_prompt=True)[
                    "input_ids"
                ]
            )
            end = len(tokenizer.apply_chat_template(messages[: k + 1], chat_template=template)["input_ids"])
            spans.append((start, end))
    return spans


def expected_labels(ids, spans) -> list[int]:
    return [token if any(a <= i < b for a, b in spans) else IGNORE_INDEX for i, token in enumerate(ids)]


# --- which template ----------------------------------------------------------------------


def test_auto_takes_the_tokenizers_own_template_then_chatml_then_instruction(tokenizer, plain_tokenizer):
    assert resolve_chat_template(with_template(tokenizer, ZEPHYR), "auto", DEFAULT_PROMPT_TEMPLATE).jinja == ZEPHYR
    assert resolve_chat_template(tokenizer, "auto", DEFAULT_PROMPT_TEMPLATE).jinja == CHATML_TEMPLATE
    instruction = resolve_chat_template(plain_tokenizer, "auto", DEFAULT_PROMPT_TEMPLATE)
    assert instruction.name == "instruction"
    assert instruction.jinja == resolve_chat_template(plain_tokenizer, "instruction", DEFAULT_PROMPT_TEMPLATE).jinja


def test_chatml_renders_the_standard_layout(tokenizer):
    text = tokenizer.apply_chat_template(CHAT[:3], chat_template=CHATML_TEMPLATE, tokenize=False)
    assert text == (
        "<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\nWhat do bees make?<|im_end|>\n"
        "<|im_start|>assistant\nHoney and wax.<|im_end|>\n"
    )
    prompt = tokenizer.apply_chat_template(
        CHAT[:2], chat_template=CHATML_TEMPLATE, tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>user\nWhat do bees make?<|im_end|>\n<|im_start|>assistant\n")


def test_instruction_keeps_the_prompt_template_layout_without_new_tokens(plain_tokenizer):
    template = '{{not jinja}} "quoted" \\ Q:\n{input}\n\nA:\n'
    jinja = resolve_chat_template(plain_tokenizer, "instruction", template).jinja
    single = [{"role": "user", "content": QA[0]}, {"role": "assistant", "content": QA[1]}]
    rendered = plain_tokenizer.apply_chat_template(single, chat_template=jinja, tokenize=False)
    assert rendered == template.format(input=QA[0]) + QA[1] + "</s>"
    system = plain_tokenizer.apply_chat_template([CHAT[0], *single], chat_template=jinja, tokenize=False)
    assert system == "You answer briefly.\n\n" + rendered
    assert len(plain_tokenizer.added_tokens_decoder) == 4  # its four specials: no token was added


def test_chatml_without_its_tokens_is_refused(plain_tokenizer):
    with pytest.raises(ChatTemplateError, match=r"chatml needs the <\|im_start\|> and <\|im_end\|> tokens"):
        resolve_chat_template(plain_tokenizer, "chatml", DEFAULT_PROMPT_TEMPLATE)


@pytest.mark.parametrize(
    "template, message",
    [
        ("{% for message in messages %}{{ message['content'] }", "failed to render: TemplateSyntaxError"),
        ("{{ raise_exception('no system turns') }}", "failed to render: TemplateError: no system turns"),
        # The number of turns first: every prefix renders another beginning.
        ("{{ messages|length }}{% for m in messages %}{{ m['content'] }}{% endfor %}", "not prefix-stable"),
        ("{% for m in messages %}{{ m['role'] }}{% endfor %}", "content is not where its turn renders"),
    ],
)
def test_a_template_that_does_not_render_or_is_not_prefix_stable_is_refused(tokenizer, template, message):
    with pytest.raises(ChatTemplateError, match=message):
        tokenize_splits(splits(qa_row()), tokenizer, unpacked(chat_template=template))


def test_the_system_prompt_is_part_of_the_saved_template(tokenizer, tmp_path):
    settings = unpacked(system_prompt='Be "kind".')
    template = chat_template_of(tokenizer, settings)
    save_tokenizer(tokenizer, template, tmp_path)
    saved = AutoTokenizer.from_pretrained(tmp_path)
    assert saved.chat_template == template.jinja and tokenizer.chat_template is None  # the caller's is untouched
    single = [{"role": "user", "content": QA[0]}, {"role": "assistant", "content": QA[1]}]
    assert saved.apply_chat_template(single, tokenize=False).startswith('<|im_start|>system\nBe "kind".<|im_end|>\n')
    assert saved.apply_chat_template(CHAT, tokenize=False).count("system") == 1  # a record's own system turn wins
    asked = saved.decode(prompt_ids(saved, single[:1]))
    assert asked.endswith(f"{QA[0]}<|im_end|>\n<|im_start|>assistant\n") and asked.startswith("<|im_start|>system")
    assert (
        prompt_ids(saved, single[:1]) == saved.apply_chat_template(single[:1], add_generation_prompt=True)["input_ids"]
    )
    tokenized, _ = tokenize_splits(splits(qa_row()), tokenizer, settings)
    assert tokenized["train"][0]["input_ids"] == saved.apply_chat_template(single)["input_ids"]


def test_the_template_is_part_of_the_fingerprint(tokenizer):
    assert tokenization_fingerprint(tokenizer, TokenizeSettings()) != tokenization_fingerprint(
        with_template(tokenizer, ZEPHYR), TokenizeSettings()
    )


# --- records through the template ------------------------------------------------------------


@pytest.mark.parametrize("learn", ["assistant_turns", "last_assistant_turn", "everything"])
def test_records_are_the_tokens_of_apply_chat_template_and_learn_what_learn_says(tokenizer, learn):
    tokenized, report = tokenize_splits(splits(chat_row(CHAT), qa_row(), text_row()), tokenizer, unpacked(learn=learn))
    rows = rows_by_id(tokenized)
    assert report.dropped == []
    single = [{"role": "user", "content": QA[0]}, {"role": "assistant", "content": QA[1]}]
    for messages, record_id in ((CHAT, chat_row(CHAT)["id"]), (single, qa_row()["id"])):
        row = rows[record_id]
        assert row["input_ids"] == tokenizer.apply_chat_template(messages, chat_template=CHATML_TEMPLATE)["input_ids"]
        spans = learned_spans(tokenizer, messages, CHATML_TEMPLATE)
        if learn == "everything":
            spans = [(0, len(row["input_ids"]))]
        elif learn == "last_assistant_turn":
            spans = spans[-1:]
        assert row["labels"] == expected_labels(row["input_ids"], spans)
    # Each learned assistant turn ends with its end-of-turn marker, which the model learns to say.
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    chat = rows[chat_row(CHAT)["id"]]
    learned_ends = [chat["labels"][b - 2] for a, b in learned_spans(tokenizer, CHAT, CHATML_TEMPLATE)]
    assert learned_ends[-1] == im_end and (learn == "last_assistant_turn" or learned_ends == [im_end, im_end])
    text = rows[text_row()["id"]]  # no template: text + EOS, all learned
    assert text["input_ids"] == tokenizer(TEXT)["input_ids"] + [tokenizer.eos_token_id]
    assert text["labels"] == text["input_ids"]


def test_train_on_source_is_learn_everything(tokenizer):
    one, _ = tokenize_splits(splits(chat_row(CHAT), qa_row()), tokenizer, unpacked(train_on_source=True))
    other, _ = tokenize_splits(splits(chat_row(CHAT), qa_row()), tokenizer, unpacked(learn="everything"))
    assert one["train"].to_list() == other["train"].to_list()
    assert all(row["labels"] == row["input_ids"] for row in one["train"])
    with pytest.raises(ValueError, match="contradicts learn: last_assistant_turn"):
        TokenizeSettings(train_on_source=True, learn="last_assistant_turn")


def test_a_long_chat_is_cut_after_the_last_assistant_turn_that_fits(tokenizer):
    full = len(tokenizer.apply_chat_template(CHAT, chat_template=CHATML_TEMPLATE)["input_ids"])
    first_turn = tokenizer.apply_chat_template(CHAT[:3], chat_template=CHATML_TEMPLATE)["input_ids"]
    tokenized, report = tokenize_splits(splits(chat_row(CHAT)), tokenizer, unpacked(max_length=full - 1))
    row = tokenized["train"][0]
    assert row["input_ids"] == first_turn
    assert row["labels"] == expected_labels(first_turn, learned_spans(tokenizer, CHAT[:3], CHATML_TEMPLATE))
    assert report.splits["train"].truncated == 1 and report.splits["train"].max_tokens == full

    dropped, report = tokenize_splits(
        splits(chat_row(CHAT)), tokenizer, unpacked(max_length=full - 1, overlength="drop")
    )
    assert len(dropped["train"]) == 0 and [d.reason for d in report.dropped] == [REASON_RECORD_TOO_LONG]
    _, report = tokenize_splits(splits(chat_row(CHAT)), tokenizer, unpacked(max_length=len(first_turn) - 1))
    assert [d.reason for d in report.dropped] == [REASON_NO_TURN_FITS]
    assert report.splits["train"].dropped_too_long == 1


def test_a_record_the_template_cannot_render_stably_is_quarantined_with_the_reason(tokenizer):
    # Stable on the four-turn check conversation; a longer chat's prefixes render another beginning.
    template = "{% if messages|length > 5 %}LONG {% endif %}" + CHATML_TEMPLATE
    longer = [*CHAT, {"role": "user", "content": "Why?"}, {"role": "assistant", "content": "They need energy."}]
    tokenized, report = tokenize_splits(splits(chat_row(longer), qa_row()), tokenizer, unpacked(chat_template=template))
    assert tokenized["train"]["id"] == [qa_row()["id"]]
    assert [(d.id, d.reason) for d in report.dropped] == [(chat_row(longer)["id"], REASON_NOT_PREFIX_STABLE)]
    assert report.splits["train"].dropped_template == 1


def test_packed_chats_keep_their_labels_but_the_first_of_each_record(tokenizer):
    rows = [chat_row(CHAT), qa_row(), text_row()]
    alone, _ = tokenize_splits(splits(*rows), tokenizer, unpacked())
    packed, _ = tokenize_splits(splits(*rows), tokenizer, TokenizeSettings(max_length=256))
    assert len(packed["train"]) == 1
    row = packed["train"][0]
    pieces = []  # each record's slice of the packed row, cut where its positions restart
    for index, position in enumerate(row["position_ids"]):
        if position == 0:
            pieces.append([])
        pieces[-1].append(index)
    by_first = {tuple(r["input_ids"][:8]): r for r in alone["train"]}
    for piece in pieces:
        record = by_first[tuple(row["input_ids"][piece[0] : piece[0] + 8])]
        assert [row["input_ids"][i] for i in piece] == record["input_ids"]
        assert [row["labels"][i] for i in piece] == [IGNORE_INDEX, *record["labels"][1:]]
