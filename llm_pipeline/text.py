"""Words of a text, for scripts written with spaces and for those written without; the one
normalizer and the one shingler every stage and check compares texts with.

Han characters, kana and their punctuation carry no spaces between words, so each such
character counts as one word: a Japanese page then has a word count and n-grams like any
other text, instead of a handful of sentence-long "words".
"""

from __future__ import annotations

import re

_UNSPACED = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_WORD = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_NOT_WORD_CHAR = re.compile(r"\W+")


def split_words(text: str) -> list[str]:
    """Whitespace-separated tokens, with every character of an unspaced script a token of its own."""
    return _WORD.findall(text)


def is_unspaced(word: str) -> bool:
    return bool(_UNSPACED_CHAR.match(word))


def normalized_words(text: str) -> list[str]:
    """Case-folded words without punctuation: "Paris." and "paris" are the same word."""
    words = (_NOT_WORD_CHAR.sub("", word.casefold()) for word in split_words(text))
    return [word for word in words if word]


def normalize(text: str) -> str:
    """Case folded, every run of whitespace one space: the form in which two texts are "the same".

    Exact deduplication hashes it, the split assigns sides by it and the leakage check compares
    prompts in it, so the three agree on what counts as one prompt.
    """
    return " ".join(text.casefold().split())


def shingles(text: str, size: int) -> set[bytes]:
    """Character n-grams of the case-folded words without punctuation; a shorter text is one shingle.

    Characters rather than words, so a short text still has enough shingles for its Jaccard
    similarity to mean something ("Why sand with the grain?" has four word trigrams). A text of
    punctuation alone has none. Near-duplicate removal and the near-duplicate leakage check both
    use these, so what the filter lets through as different the check does not call alike.
    """
    folded = " ".join(normalized_words(text))
    if len(folded) <= size:
        return {folded.encode("utf-8")} if folded else set()
    return {folded[index : index + size].encode("utf-8") for index in range(len(folded) - size + 1)}
