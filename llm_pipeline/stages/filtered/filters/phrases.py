"""Phrases that mark synthetic-data artefacts in a response, and the matcher that finds them.

`narrow` holds refusals and AI self-references that a human-written answer almost never
contains. `aggressive` adds the hedging and moralizing boilerplate that chat models wrap
around answers; it also removes some good answers, which is the trade the uncensored-dataset
scripts make on purpose. Entries are lower case with a straight apostrophe; matching folds
case, curly apostrophes and whitespace, and a phrase that starts or ends with a letter only
matches whole words ("as an ai" does not match "as an aide").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from llm_pipeline.records import Record
from llm_pipeline.setting import setting
from llm_pipeline.stages.filtered.filters.base import Drop, Filter

NARROW_PHRASES: tuple[str, ...] = (
    # AI self-references
    "as an ai language model",
    "as a language model",
    "as a large language model",
    "as an ai assistant",
    "as an ai model",
    "as an artificial intelligence",
    "as an ai,",
    "as an ai i",
    "i am an ai language model",
    "i'm an ai language model",
    "i'm just an ai",
    "i am just an ai",
    "i'm only an ai",
    "large language model trained by openai",
    "i was trained by openai",
    "i was created by openai",
    "openai's content policy",
    "openai's use case policy",
    "against my programming",
    # refusals
    "i cannot fulfill that request",
    "i cannot fulfill this request",
    "i cannot fulfill your request",
    "i can't fulfill that request",
    "i can't fulfill this request",
    "i'm unable to fulfill",
    "i am unable to fulfill",
    "i cannot comply with",
    # knowledge cutoff
    "my knowledge cutoff",
    "my knowledge cut-off",
    "my training cutoff",
    "as of my last knowledge update",
    "as of my last update",
    "as of my training data",
    "my training data only goes",
    "september 2021",
    "i don't have access to real-time",
    "i do not have access to real-time",
    "i'm not able to browse",
    "i am not able to browse",
    # no opinions or feelings
    "i do not have personal opinions",
    "i don't have personal opinions",
    "i do not have personal beliefs",
    "i don't have personal beliefs",
    "i do not have personal feelings",
    "i don't have personal feelings",
    "i do not have feelings",
    "i don't have feelings",
    "i don't have emotions",
    "i do not have emotions",
)

# Hedging and moralizing boilerplate: written for this project, in the spirit of the lists the
# uncensored-dataset scripts apply.
MORALIZING_PHRASES: tuple[str, ...] = (
    "it is important to note",
    "it's important to note",
    "it is important to remember",
    "it's important to remember",
    "it is important to consider",
    "it's important to consider",
    "it is essential to",
    "it's essential to",
    "it is crucial to",
    "it's crucial to",
    "i must emphasize",
    "i must stress",
    "i must remind you",
    "i'm sorry, but",
    "i am sorry, but",
    "i apologize, but",
    "i apologize for any confusion",
    "as a responsible",
    "it's not appropriate",
    "it is not appropriate",
    "it would be inappropriate",
    "not ethical to",
    "ethical guidelines",
    "ethical principles",
    "ethical considerations",
    "ethical standards",
    "goes against my",
    "my guidelines",
    "my purpose is to",
    "i cannot assist with",
    "i can't assist with",
    "i cannot help with that",
    "i can't help with that",
    "i cannot provide information",
    "i can't provide information",
    "i'm not able to provide",
    "i am not able to provide",
    "i cannot support or promote",
    "i would advise against",
    "i strongly advise",
    "i encourage you to",
    "i urge you to",
    "please consult a professional",
    "seek professional help",
    "consult with a qualified",
    "promote inclusivity",
    "inclusive and respectful",
    "respectful and inclusive",
    "diversity and inclusion",
    "harmful stereotypes",
    "perpetuate stereotypes",
    "potentially harmful",
    "harmful or offensive",
    "offensive or harmful",
    "inappropriate or offensive",
    "illegal or unethical",
    "unethical or illegal",
    "illegal activities",
    "harmful consequences",
    "prioritize safety",
    "prioritize user safety",
    "safety and well-being",
    "well-being of all",
    "safe and respectful",
    "responsible ai",
)

PHRASE_LISTS: dict[str, tuple[str, ...]] = {
    "narrow": NARROW_PHRASES,
    "aggressive": NARROW_PHRASES + MORALIZING_PHRASES,
    "none": (),
}


PhraseList = Literal["narrow", "aggressive", "none"]  # the names of PHRASE_LISTS, for the launchpad's choice


@dataclass(frozen=True)
class Settings:
    """Synthetic-data artefact phrases, matched on the response only, every assistant turn of a conversation
    (case, apostrophes and spacing folded)."""

    list: PhraseList = setting(
        "narrow",
        "`narrow` (refusals and AI self-references), `aggressive` (narrow plus hedging and moralizing "
        "boilerplate) or `none`.",
    )
    extra: tuple[str, ...] = setting((), "Your own phrases, added to `list`.")

    def __post_init__(self) -> None:
        phrases_for(self.list)  # an unknown list name fails here, before any record is read

    @property
    def phrases(self) -> tuple[str, ...]:
        return phrases_for(self.list, self.extra)


def fold(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: "I’m  an AI\\nlanguage" reads "i'm an ai language"."""
    return " ".join(text.casefold().replace("\u2019", "'").replace("\u2018", "'").split())


def phrases_for(list_name: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The named list plus the user's phrases (folded, blanks and repeats removed, order kept)."""
    if list_name not in PHRASE_LISTS:
        raise ValueError(f"unknown phrase list {list_name!r}; choose one of {sorted(PHRASE_LISTS)}")
    folded = (fold(phrase) for phrase in (*PHRASE_LISTS[list_name], *extra))
    return tuple(dict.fromkeys(phrase for phrase in folded if phrase))


class PhraseMatcher:
    """Finds the first of many phrases in a text, in one regular-expression pass."""

    def __init__(self, phrases: Sequence[str]) -> None:
        folded = [fold(phrase) for phrase in phrases if fold(phrase)]
        # Longest first, so a match names the most specific phrase.
        alternatives = sorted(set(folded), key=lambda phrase: (-len(phrase), phrase))
        self._pattern = re.compile(word_bounded_alternation(alternatives)) if alternatives else None

    def find(self, text: str) -> str | None:
        if self._pattern is None:
            return None
        match = self._pattern.search(fold(text))
        return match.group(0) if match else None


def word_bounded_alternation(phrases: Sequence[str]) -> str:
    """A pattern matching any of `phrases` (tried in order) as whole words: not inside a longer word
    at either end where the phrase begins or ends with a word character.

    The start condition is checked once per position, not once per phrase: where no word character
    comes before, every phrase may match, in order; elsewhere only those that begin with a non-word
    character. Same matches as a lookbehind in front of each phrase, about 20 times faster on a
    hundred phrases, which the regex engine would otherwise retry one by one at every position.
    """

    def ended(phrase: str) -> str:
        return re.escape(phrase) + (r"(?!\w)" if re.search(r"\w$", phrase) else "")

    pattern = r"(?<!\w)(?:" + "|".join(ended(phrase) for phrase in phrases) + ")"
    unbounded = [phrase for phrase in phrases if not re.match(r"\w", phrase)]
    return pattern + ("|(?:" + "|".join(ended(phrase) for phrase in unbounded) + ")" if unbounded else "")


def phrase_filter(phrases: Sequence[str]) -> Filter:
    """Drop a record whose response, or any assistant turn of a conversation, contains one of
    `phrases` (case-, apostrophe- and spacing-tolerant)."""
    matcher = PhraseMatcher(phrases)

    def check(record: Record) -> Drop | None:
        for number, response in enumerate(record.responses, start=1):
            if hit := matcher.find(response):
                where = f"assistant turn {number}" if record.is_chat else "response"
                return Drop("synthetic_phrase", f"{where} contains {hit!r}")
        return None

    return check


def from_settings(settings: Settings) -> Filter | None:
    phrases = settings.phrases
    return phrase_filter(phrases) if phrases else None
