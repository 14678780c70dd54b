"""Words of a text, for scripts written with spaces and for those written without.

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
