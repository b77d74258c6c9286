"""Which words of a query a result's text holds: what the page marks and the API returns.

A query word matches a word of the text that starts with its stem (the word less up to two
final letters, at least three), so "forecasts" finds "forecast" and "storms" finds "storm",
as the page marks them. Stop words (keyword search's list: "the", "and", ...) and words of two
letters or fewer are left out.
"""
from __future__ import annotations

import re

from .keyword import STOP_WORDS

_WORD = re.compile(r"[^\W_][^\W_]*", re.UNICODE)


def query_words(query: str) -> list[str]:
    """The query's words that can match, lower-case, each once, in order."""
    return list(dict.fromkeys(w for w in (w.lower() for w in _WORD.findall(query)) if len(w) > 2 and w not in STOP_WORDS))


def found_in(words: list[str], text: str) -> list[str]:
    """The ``words`` (from ``query_words``) that ``text`` holds, in the query's order."""
    if not words or not text:
        return []
    present = {w.lower() for w in _WORD.findall(text)}
    return [w for w in words if any(t.startswith(w[:max(3, len(w) - 2)]) for t in present)]
