"""One normal form of a text query, for every path that reads one: the CLI and the library
(``Searcher.text_vectors``), the server's batched encoder and its caches of vectors and answers.
Runs of whitespace are one space, so "storm  at sea\n" is the query "storm at sea" everywhere
(and one cache entry)."""
from __future__ import annotations

from core.errors import InvalidInput


def normal_form(text: str) -> str:
    return " ".join(text.split())


def query_text(text: str) -> str:
    """``text`` in normal form; an empty query is the user's mistake (``InvalidInput``)."""
    text = normal_form(text)
    if not text:
        raise InvalidInput("the query text is empty")
    return text
