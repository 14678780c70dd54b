"""The language filter: the languages listed are kept, a confidently detected other one is dropped."""

import pytest

from llm_pipeline.records import Record
from llm_pipeline.stages.filtered.filters import language
from llm_pipeline.stages.filtered.filters.language import Settings, from_settings

ENGLISH = (
    "Turn the compost heap every week so that air reaches the middle, and keep the pile as damp as a "
    "wrung sponge; after three months the bottom layer is ready for the garden beds."
)
GERMAN = (
    "Den Komposthaufen sollte man jede Woche umsetzen, damit Luft bis in die Mitte gelangt. Nach drei "
    "Monaten ist die unterste Schicht reif und kann auf die Gartenbeete verteilt werden."
)
CHINESE = "每周翻动一次堆肥，让空气进入中间，并保持堆肥像拧干的海绵一样湿润。三个月后，底层就可以用于花园的苗床了。"


def answer(output: str) -> Record:
    return Record.supervised("How do I look after a compost heap?", output, "test", "jsonl")


def test_english_is_kept_and_german_and_chinese_are_dropped_with_language_and_score():
    check = from_settings(Settings())
    assert check(answer(ENGLISH)) is None
    german, chinese = check(answer(GERMAN)), check(Record.unsupervised(CHINESE, "notes.txt", "html"))
    assert german.reason == chinese.reason == "language"
    assert german.detail.startswith("de (score ") and "not in ['en']" in german.detail
    assert chinese.detail.startswith("zh (score ")
    score = float(german.detail.split("score ")[1].split(")")[0])
    assert Settings().min_score <= score <= 1.0


def test_the_response_is_judged_not_the_prompt():
    record = Record.supervised(GERMAN, ENGLISH, "test", "jsonl")
    assert from_settings(Settings())(record) is None


def test_a_short_text_is_kept_unjudged():
    check = from_settings(Settings())
    assert check(answer('"La vida es un viaje, no un destino."')) is None  # a translation an English set asks for
    assert from_settings(Settings(min_bytes=0))(answer('"La vida es un viaje, no un destino."')).reason == "language"


def test_listed_languages_are_kept_and_an_empty_list_keeps_all():
    assert from_settings(Settings(languages=("en", "de")))(answer(GERMAN)) is None
    assert from_settings(Settings(languages=())) is None


def test_an_uncertain_verdict_keeps_the_text():
    assert from_settings(Settings(min_score=1.0))(answer(GERMAN[:60])) is None


def test_bad_settings_fail_before_any_record_is_read():
    with pytest.raises(ValueError, match="unknown language codes"):
        from_settings(Settings(languages=("english",)))
    with pytest.raises(ValueError, match="min_score"):
        Settings(min_score=1.5)


def test_the_model_is_loaded_once_per_process():
    assert language.identifier() is language.identifier()
