"""The answers of recent searches, as the JSON bytes sent, for one state of the index.

A repeated search (a reload, a query typed again) is answered with the bytes sent before: no
encoding, ranking or serialisation. An answer depends on the index as well as on the query, so
every change to the index starts a new generation and drops what was kept.
"""
from __future__ import annotations

from search.query_text import normal_form

from .query import LRU


class AnswerCache:
    def __init__(self, size: int):
        self._kept = LRU(size)
        self._generation = 0

    def key(self, text: str, mode: str, k: int, *rest) -> tuple:
        """The key of a search: its normalised text, mode, k and whatever else shapes the answer."""
        return (self._generation, normal_form(text), mode, k, *rest)

    def get(self, key: tuple) -> bytes | None:
        return self._kept.get(key)

    def put(self, key: tuple, body: bytes) -> None:
        if key[0] == self._generation:  # an answer computed before a change is not kept
            self._kept.put(key, body)

    def invalidate(self) -> None:
        """The index changed: kept answers may be wrong now."""
        self._generation += 1
        self._kept.clear()
