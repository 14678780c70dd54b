"""The filtered stage's settings, built from the filter registry: one part per filter, and the cache key."""

import dataclasses

import pytest

from llm_pipeline.records import Record
from llm_pipeline.setting import help_of
from llm_pipeline.stages.filtered.analysis import analysis_cache
from llm_pipeline.stages.filtered.apply import FilterReport, apply_filters
from llm_pipeline.stages.filtered.dedup import NearDuplicateSettings
from llm_pipeline.stages.filtered.filters import REGISTRY, build_chain, language, phrases, quality
from llm_pipeline.stages.filtered.settings import FilterSettings

GERMAN = (
    "Den Komposthaufen sollte man jede Woche umsetzen, damit Luft bis in die Mitte gelangt. Nach drei "
    "Monaten ist die unterste Schicht reif und kann auf die Gartenbeete verteilt werden."
)


def test_every_registered_filter_has_its_part_of_the_settings_with_help_on_every_field():
    settings = FilterSettings()
    names = [field.name for field in dataclasses.fields(FilterSettings)]
    assert names[: len(REGISTRY)] == list(REGISTRY)  # the filters' parts come first, in run order
    for name, module in REGISTRY.items():
        assert getattr(settings, name) == module.Settings()
        assert all(help_of(field) for field in dataclasses.fields(module.Settings)), name
    assert all(help_of(field) for field in dataclasses.fields(FilterSettings))
    assert all(help_of(field) for field in dataclasses.fields(NearDuplicateSettings))


def test_the_defaults_are_the_shipped_ones():
    settings = FilterSettings()
    assert settings.phrases == phrases.Settings("narrow", ()) and settings.phrases.phrases == phrases.NARROW_PHRASES
    assert settings.quality.min_words_response == 1 and settings.quality.max_top_ngram_char_fraction[2] == 0.30
    assert settings.language == language.Settings(("en",), 40, 0.7)
    assert not settings.redact_pii and settings.dedup_exact and settings.near == NearDuplicateSettings()
    assert FilterSettings(dedup_near=False).near is None
    assert len(build_chain(settings)) == 3
    assert len(build_chain(FilterSettings(phrases=phrases.Settings("none"), language=language.Settings(())))) == 1


def test_the_phrase_list_choices_are_the_lists_and_an_unknown_one_fails():
    assert set(phrases.PhraseList.__args__) == set(phrases.PHRASE_LISTS)
    assert phrases.Settings("aggressive", ("  My Own  Phrase ",)).phrases[-1] == "my own phrase"
    with pytest.raises(ValueError, match="unknown phrase list"):
        phrases.Settings("strict")


def test_quality_settings_reach_the_quality_filter():
    record = Record.supervised("Capital of France?", "Paris.", "test", "jsonl")
    strict = FilterSettings(quality=quality.Settings(min_words_response=2))
    assert [d.reason for d in apply_filters([record], strict, FilterReport())] == ["too_few_words"]


def test_a_changed_language_setting_is_not_answered_from_the_cache(tmp_path):
    record = Record.supervised("How do I look after a compost heap?", GERMAN, "test", "jsonl")

    def decide(settings):
        cache = analysis_cache(tmp_path, settings)
        reasons = [decision.reason for decision in apply_filters([record], settings, FilterReport(), cache)]
        cache.save()
        return reasons, cache.hits

    assert decide(FilterSettings()) == (["language"], 0)
    assert decide(FilterSettings()) == (["language"], 1)  # unchanged: read back
    assert decide(FilterSettings(language=language.Settings(("en", "de")))) == ([None], 0)
