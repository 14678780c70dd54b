"""The filtered stage on conversations: content filters judge the assistant turns, redaction keeps
the turns, and duplicate conversations are removed like duplicate texts."""

import datasets

from llm_pipeline.records import Record
from llm_pipeline.stages.filtered.apply import FilterReport, apply_filters
from llm_pipeline.stages.filtered.filters.language import language_filter
from llm_pipeline.stages.filtered.filters.phrases import phrase_filter, phrases_for
from llm_pipeline.stages.filtered.filters.quality import Settings as QualitySettings
from llm_pipeline.stages.filtered.filters.quality import quality_filter
from llm_pipeline.stages.filtered.run import run
from llm_pipeline.stages.filtered.settings import FilterSettings
from llm_pipeline.storage.layout import DataLayout
from llm_pipeline.storage.stage_output import save_records

QUESTION = "How do I keep a cut avocado from turning brown?"
ANSWER = "Leave the stone in, brush the cut side with lemon juice and wrap it tightly in cling film."
FOLLOW_UP = "How long will it keep in the fridge?"
LATER = "About a day, perhaps two; scrape off any thin brown layer and the flesh underneath is fine."


def chat(*turns: tuple[str, str], source: str = "chat.jsonl line 1") -> Record:
    return Record.chat([{"role": role, "content": content} for role, content in turns], source, "jsonl")


def avocado(later: str = LATER, question: str = QUESTION, source: str = "chat.jsonl line 1") -> Record:
    return chat(("user", question), ("assistant", ANSWER), ("user", FOLLOW_UP), ("assistant", later), source=source)


def decide(records: list[Record], settings: FilterSettings) -> list[tuple[str | None, str]]:
    return [(decision.reason, decision.detail) for decision in apply_filters(records, settings, FilterReport())]


def test_an_artefact_in_any_assistant_turn_drops_the_conversation_one_in_a_user_turn_does_not():
    check = phrase_filter(phrases_for("narrow"))
    drop = check(avocado(later="As an AI language model, I cannot taste avocados."))
    assert drop is not None and drop.reason == "synthetic_phrase"
    assert drop.detail == "assistant turn 2 contains 'as an ai language model'"
    assert check(avocado(question="As an AI language model, how would you keep an avocado green?")) is None


def test_quality_judges_each_assistant_turn_as_a_response():
    check = quality_filter(QualitySettings(max_words=20))
    assert check(avocado()) is None  # 18 and 17 words a turn: over 20 only together
    drop = check(avocado(later=LATER + " Keep it in the coldest part of the fridge."))
    assert drop is not None and (drop.reason, drop.detail) == ("too_many_words", "assistant turn 2: 26 words > 20")


def test_language_is_judged_on_the_assistant_turns_together():
    german = chat(
        ("user", "Wie lange hält eine Avocado im Kühlschrank?"),
        ("assistant", "Etwa einen Tag, vielleicht zwei."),
        ("user", "Und aufgeschnitten?"),
        ("assistant", "Aufgeschnitten nur einen Tag, gut in Folie gewickelt und mit Zitronensaft bestrichen."),
    )
    check = language_filter(["en"])
    assert check(avocado()) is None
    drop = check(german)
    assert drop is not None and drop.reason == "language" and drop.detail.startswith("de ")


def test_redaction_reaches_every_turn_keeps_the_turns_and_the_id_and_survives_the_cache(tmp_path):
    layout = DataLayout(tmp_path)
    record = chat(
        ("system", "You help customers of a bakery."),
        ("user", "Please send the recipe to jo.baker@example.com or call +44 20 7946 0958."),
        ("assistant", "I have sent it to your address; reply there if anything is unclear."),
    )
    save_records([record], layout.stage("plaintext"))
    settings = FilterSettings(redact_pii=True)
    first = run(layout, settings)
    assert first.report.redactions == {"email": 1, "phone": 1} and first.analysed == 1
    saved = datasets.load_from_disk(str(layout.stage("filtered")))
    assert saved[0]["messages"] == [
        {"role": "system", "content": "You help customers of a bakery."},
        {"role": "user", "content": "Please send the recipe to <EMAIL> or call <PHONE>."},
        {"role": "assistant", "content": "I have sent it to your address; reply there if anything is unclear."},
    ]
    assert saved[0]["id"] == record.id and saved[0]["text"] is None  # ids stay the raw content's, as for texts
    second = run(layout, settings)  # the analysis read back from cache/filtered
    assert second.from_cache == 1 and datasets.load_from_disk(str(layout.stage("filtered")))[0] == saved[0]


def test_a_duplicate_conversation_is_removed_and_names_the_kept_one():
    kept = avocado(source="a.jsonl line 1")
    spaced = avocado(later=LATER.upper() + "  ", source="b.json item 4")  # case and spacing folded
    near = avocado(later=LATER.replace("perhaps", "maybe"), source="c.jsonl line 9")
    other = avocado(later="Two days at most, wrapped well; after that the flesh turns grey and soft.", source="d")
    decisions = decide([kept, spaced, near, other], FilterSettings())
    assert [reason for reason, _ in decisions] == [None, "exact_duplicate", "near_duplicate", None]
    assert decisions[1][1].startswith(f"duplicate of {kept.id} (a.jsonl line 1)")
    assert decisions[2][1].startswith(f"near-duplicate of {kept.id} (a.jsonl line 1)")


def test_a_conversation_and_a_pair_of_the_same_strings_are_not_duplicates():
    pair = Record.supervised(QUESTION, ANSWER, "qa.jsonl line 1", "jsonl")
    one_exchange = chat(("user", QUESTION), ("assistant", ANSWER))
    assert decide([pair, one_exchange], FilterSettings()) == [(None, ""), (None, "")]
