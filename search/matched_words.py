"""Which words of a query a result's text holds: what the page marks and the API returns.

The words are those keyword search ranks by (``keyword.query_words``: stop words out, at most
32, runs of CJK script as character pairs), so what is highlighted is what was searched for. A
query word matches a word of the text that starts with its stem (the word less up to two final
letters, at least three), so "forecasts" finds "forecast" and "storms" finds "storm", as the page
marks them; a word of two letters ("AI", "TV") only itself, and a CJK pair wherever it stands.
"""
from __future__ import annotations

import re

from core.cjk import is_cjk
from .keyword import query_words

__all__ = ["found_in", "query_words"]

_WORD = re.compile(r"\w+", re.UNICODE)


def found_in(words: list[str], text: str) -> list[str]:
    """The ``words`` (from ``query_words``) that ``text`` holds, in the query's order."""
    if not words or not text:
        return []
    present = {w.lower() for w in _WORD.findall(text)}
    lowered = text.lower()
    return [w for w in words if (w in lowered if is_cjk(w) else
                                 w in present if len(w) < 3 else
                                 any(t.startswith(w[:max(3, len(w) - 2)]) for t in present))]
