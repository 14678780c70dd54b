"""Filters: phrase lists, Gopher-style quality heuristics, PII redaction, and their counting."""

from collections import Counter
from itertools import permutations

import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.filtered.apply import FilterReport, apply_filters
from llm_pipeline.stages.filtered.filters.phrases import (
    MORALIZING_PHRASES,
    NARROW_PHRASES,
    PHRASE_LISTS,
    PhraseMatcher,
    fold,
    phrase_filter,
    phrases_for,
    word_bounded_alternation,
)
from llm_pipeline.stages.filtered.filters.quality import (
    Settings,
    duplicate_ngram_char_fraction,
    quality_filter,
    repeated_fraction,
    top_ngram_char_fraction,
)
from llm_pipeline.stages.filtered.pii import redact
from llm_pipeline.stages.filtered.settings import FilterSettings

# 60 words of ordinary prose: passes every heuristic with the defaults.
CLEAN = (
    "Turn the compost heap every week so that air reaches the middle. Mix green kitchen scraps with "
    "brown leaves in roughly equal parts, keep the pile as damp as a wrung sponge, and cover it when "
    "heavy rain is forecast. A healthy heap feels warm to the touch and smells of earth rather than rot, "
    "and after three months the bottom layer is ready for the garden beds."
)


def qa(prompt: str, answer: str, source: str = "test") -> Record:
    return Record.supervised(prompt, answer, source, "jsonl")


def text(body: str, source: str = "test") -> Record:
    return Record.unsupervised(body, source, "jsonl")


# --- phrase lists -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["narrow", "aggressive"])
def test_every_list_entry_is_one_separate_phrase_that_matches_itself(name):
    phrases = PHRASE_LISTS[name]
    assert len(phrases) == len(set(phrases))
    for phrase in phrases:
        assert phrase == fold(phrase) and len(phrase.split()) <= 7, phrase
        check = phrase_filter([phrase])
        shouted = phrase.upper().replace("'", "\u2019")  # capitals and a curly apostrophe still match
        assert check(qa("prompt", f"Well, {shouted} here.")) is not None, phrase
    # A missing comma between two literals joins them into one longer entry: no entry may hold
    # another one, or the concatenation of two others.
    for one, other in permutations(phrases, 2):
        assert one not in other, (one, other)
    joined = {a + b for a, b in permutations(phrases, 2)} | {f"{a} {b}" for a, b in permutations(phrases, 2)}
    assert not joined & set(phrases)


def test_lists_are_layered_and_large_enough():
    assert PHRASE_LISTS["aggressive"][: len(NARROW_PHRASES)] == NARROW_PHRASES
    assert len(MORALIZING_PHRASES) >= 40 and PHRASE_LISTS["none"] == ()
    assert phrases_for("none", ["  Let Me Be Clear "]) == ("let me be clear",)
    with pytest.raises(ValueError, match="unknown phrase list"):
        phrases_for("strict")


def test_phrase_filter_reads_the_response_not_the_prompt():
    check = phrase_filter(NARROW_PHRASES)
    assert check(qa("Are you trained by OpenAI, as an AI language model?", "No, I am a small local model.")) is None
    drop = check(qa("Tell me a joke", "As an  AI\nlanguage model, I cannot joke."))
    assert drop.reason == "synthetic_phrase" and "as an ai language model" in drop.detail


def test_phrases_match_whole_words_only():
    matcher = PhraseMatcher(["as an ai", "september 2021"])
    assert matcher.find("She works as an aide in a school.") is None
    assert matcher.find("In September 20215 nothing happened.") is None
    assert matcher.find("Speaking AS AN AI: hello") == "as an ai"


def test_one_start_condition_finds_what_a_lookbehind_per_phrase_finds():
    import re

    phrases = ["as an ai,", "as an ai", "ai", ",ai", "-- note", "2021"]

    def per_phrase(phrase: str) -> str:  # the plain form: each phrase with its own boundaries
        start = r"(?<!\w)" if re.match(r"\w", phrase) else ""
        return start + re.escape(phrase) + (r"(?!\w)" if re.search(r"\w$", phrase) else "")

    plain = re.compile("|".join(per_phrase(phrase) for phrase in phrases))
    factored = re.compile(word_bounded_alternation(phrases))
    texts = ["x,ai said", "as an ai, I", "as an aide", "said,ai", "a-- note", "aai 2021x 2021", "mail ai", "as an ai"]
    texts += [" ".join(words) for words in permutations(["as", "an", "ai,", "-- note", "x2021"], 3)]
    for text in texts:
        found, expected = factored.search(text), plain.search(text)
        assert (found and (found.start(), found.group())) == (expected and (expected.start(), expected.group())), text


def test_aggressive_list_drops_moralizing_that_narrow_keeps():
    answer = qa("How do I sharpen a chisel?", "It is important to note that a sharp chisel is safer. Hone the bevel.")
    assert phrase_filter(phrases_for("narrow"))(answer) is None
    assert phrase_filter(phrases_for("aggressive"))(answer).reason == "synthetic_phrase"
    assert phrase_filter(phrases_for("none", ["sharp chisel"]))(answer).reason == "synthetic_phrase"


# --- quality heuristics ---------------------------------------------------------------------


def reason(record: Record, **overrides) -> str | None:
    drop = quality_filter(Settings(**overrides))(record)
    return drop.reason if drop else None


def test_clean_prose_and_short_answers_pass_the_defaults():
    assert reason(text(CLEAN)) is None and reason(qa("q", CLEAN)) is None
    assert reason(qa("What is the capital of France?", "Paris.")) is None
    assert reason(text("ok")) == "too_few_words"
    assert reason(qa("q", "Paris."), min_words_response=2) == "too_few_words"
    assert reason(text(CLEAN), max_words=10) == "too_many_words"


def test_word_shape_heuristics_each_name_their_reason():
    long_words = " ".join(["incomprehensibilities"] * 45 + ["and", "the"] * 5)
    assert (
        reason(text(long_words), max_top_ngram_char_fraction={}, max_duplicate_ngram_char_fraction={})
        == "mean_word_length"
    )
    hashtags = CLEAN + " " + " ".join(f"#tag{index}" for index in range(12))
    assert reason(text(hashtags)) == "symbol_ratio"
    numbers = CLEAN + "\n" + " ".join(str(index * 7) for index in range(40))
    assert reason(text(numbers)) == "non_alpha_words"
    bullets = "\n".join(f"- item number {index} of the shopping list for the week" for index in range(8))
    assert reason(text(bullets)) == "bullet_lines"
    trailing = "\n".join(f"and then the story went on about the old mill by the river {index}..." for index in range(6))
    assert reason(text(trailing)) == "ellipsis_lines"


def test_shape_heuristics_spare_responses_unless_asked():
    bullets = "\n".join(f"- {line}" for line in CLEAN.split(". "))
    assert reason(qa("List what to buy", bullets)) is None
    assert reason(qa("List what to buy", bullets), shape_checks_on_responses=True) == "bullet_lines"
    table = "Year | Population\n" + "\n".join(f"{2000 + index} | {6.1 + index / 10:.2f} billion" for index in range(20))
    assert reason(qa("Tabulate", table)) is None
    assert reason(qa("Tabulate", table), shape_checks_on_responses=True) == "non_alpha_words"


def test_repetition_heuristics_catch_pasted_and_looping_text():
    assert reason(qa("q", CLEAN + "\n\n" + CLEAN)) == "duplicate_lines"
    assert reason(qa("q", CLEAN + " " + "buy now " * 40)) == "top_ngram_repetition"
    loop = CLEAN + " " + " ".join(["the answer is in the garden shed behind the old blue door"] * 10)
    assert reason(qa("q", loop), max_top_ngram_char_fraction={}) == "duplicate_ngram_repetition"
    # 0 turns a check off.
    assert (
        reason(
            qa("q", CLEAN + "\n\n" + CLEAN),
            max_duplicate_line_fraction=0,
            max_duplicate_line_char_fraction=0,
            max_duplicate_ngram_char_fraction={},
        )
        is None
    )


def test_short_texts_are_not_judged_by_ratios():
    short = "buy now buy now buy now buy now"
    assert reason(text(short)) is None
    assert reason(text(short), judge_min_words=5) == "top_ngram_repetition"


def test_unspaced_scripts_have_words_and_no_mean_word_length():
    japanese = "ミニトマトは、ベランダの小さなスペースでも育てやすい野菜です。日当たりのよい場所と大きめのプランターがあれば、初心者でも夏のあいだ何度も収穫を楽しめます。"
    assert reason(text(japanese), judge_min_words=10) is None
    assert (
        reason(text("日本語"), min_words_text=3) is None and reason(text("日本"), min_words_text=3) == "too_few_words"
    )


def test_repetition_measures_on_hand_counted_examples():
    assert repeated_fraction(["a", "bb", "a", "a"]) == (0.5, 2 / 5)
    words = ["x", "y", "x", "y", "z"]  # "x y" twice covers 4 of 5 one-character words
    assert top_ngram_char_fraction(words, 2) == pytest.approx(0.8)
    assert top_ngram_char_fraction(["a", "b", "c"], 2) == 0.0
    assert duplicate_ngram_char_fraction(["a", "b", "c", "a", "b", "c", "d"], 3) == pytest.approx(6 / 7)


# --- PII ------------------------------------------------------------------------------------


def test_redaction_replaces_emails_phones_and_public_ip_addresses():
    counts = Counter()
    out = redact(
        "Mail jane.doe+news@example.co.uk, call +44 20 7946 0958 or (555) 010-0199, "
        "server 81.2.69.160 and 2a00:1450:4009:81f::200e, then 8.8.8.8.",
        counts,
    )
    assert out == "Mail <EMAIL>, call <PHONE> or <PHONE>, server <IP_ADDRESS> and <IP_ADDRESS>, then <IP_ADDRESS>."
    assert counts == {"email": 1, "phone": 2, "ip_address": 3}


def test_redaction_leaves_dates_versions_code_and_private_addresses_alone():
    innocent = (
        "On 2023-07-04 version 1.2.3 cost $1,299.99; 10:30:00, std::cout, 256.1.1.1, ratio 16:9, "
        "ISBN 978-3-16-148410-0. Your router is often at 192.168.1.1 or 10.0.0.1, localhost is ::1 and 127.0.0.1."
    )
    counts = Counter()
    assert redact(innocent, counts) == innocent and not counts


# --- counting in one place ------------------------------------------------------------------


def test_apply_filters_counts_every_reason_and_keeps_first_duplicate():
    records = [
        qa("What is rust?", "Iron oxide that forms on steel when it meets water and air."),
        qa("what is  RUST?", "Iron oxide that forms on steel when it meets water and air."),
        text("ok"),
        qa("Opinion?", "As an AI language model, I do not have personal opinions at all."),
        qa("Capital of France?", "Paris."),
    ]
    report = FilterReport()
    decisions = list(apply_filters(records, FilterSettings(), report))
    assert [decision.reason for decision in decisions] == [
        None,
        "exact_duplicate",
        "too_few_words",
        "synthetic_phrase",
        None,
    ]
    assert decisions[1].detail.startswith(f"duplicate of {records[0].id} (test)")
    assert report.kept == 2 and report.total == 5
    assert report.dropped == {"exact_duplicate": 1, "too_few_words": 1, "synthetic_phrase": 1}
    assert report.duplicate_groups == {f"{records[0].id} (test)": 1}


def test_redaction_rewrites_records_before_they_are_judged():
    records = [
        qa("Who do I write to?", "Write to anna@example.org about the refund.", "a.jsonl line 1"),
        qa("Who do I write to?", "Write to ben@example.com about the refund.", "a.jsonl line 2"),
    ]
    report = FilterReport()
    decisions = list(apply_filters(records, FilterSettings(redact_pii=True), report))
    assert decisions[0].record.output == "Write to <EMAIL> about the refund." and decisions[0].reason is None
    assert decisions[1].reason == "exact_duplicate"  # the same once the address is gone
    assert report.redactions == {"email": 2} and report.records_redacted == 2
    assert decisions[0].record.id == records[0].id  # the id still traces back to plaintext
