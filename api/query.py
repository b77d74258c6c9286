"""Text queries to vectors, fast: batched encoding, a cache of recent queries, timings apart.

Encoding the query (CLIP's text tower, MiniLM) is most of a text search's cost on a CPU. Three
things make it cheap under load:

* **Batching**: queries that arrive while a batch is being encoded wait for the next batch, and
  each batch goes through each model once. One forward pass over 32 queries costs far less than
  32 passes, and nobody waits on a timer.
* **One model at a time**: CLIP and MiniLM each use every core for their part of the batch;
  running them side by side on two threads was slower on 2 cores, for one query and for batches.
* **A cache**: people repeat queries (typed again, page reloads), so the vectors of recent
  queries (they depend only on the models) are kept in an LRU; the answers of recent searches
  are kept apart (``answers``), since they depend on the index too.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from core.encoders import Encoders, VisualSearchUnavailable
from search.query_text import query_text
from search.modes import mode_vectors, needs_clip, needs_sentence_model

_BATCH = 64


class LRU:
    def __init__(self, size: int):
        self.size, self._data, self._lock = max(0, size), OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if not self.size:
            return
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class QueryEncoder:
    """``await encode(text, mode)`` -> (vectors per space, encode seconds, cached)."""

    def __init__(self, encoders: Encoders, clip_for: Callable[[str], object], cache_size: int = 2048):
        self.encoders = encoders
        self.clip_for = clip_for  # mode -> CLIP or None (``Searcher.clip_for``: one rule for both)
        # One thread runs every batch (the drain loop sends one at a time anyway): torch keeps an
        # OpenMP team per calling thread, and teams of several threads spin against each other.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="vidsearch-encode")
        self.vectors = LRU(cache_size)
        self._pending: list[tuple[str, str, asyncio.Future]] = []
        self._drain_task: asyncio.Task | None = None  # held: the loop keeps only weak references

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def encode(self, text: str, mode: str) -> tuple[dict[str, np.ndarray], float, bool]:
        text = query_text(text)
        found = self.vectors.get((text, mode))
        if found is not None:
            return found, 0.0, True
        future = asyncio.get_running_loop().create_future()
        self._pending.append((text, mode, future))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.get_running_loop().create_task(self._drain())
        vectors, seconds = await future
        return vectors, seconds, False

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:_BATCH], self._pending[_BATCH:]
            try:
                results = await loop.run_in_executor(self.executor, self._encode_batch,
                                                     [(t, m) for t, m, _ in batch])
            except Exception as exc:  # a model failure: every query of the batch gets it
                results = [exc] * len(batch)
            for (text, mode, future), result in zip(batch, results):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    self.vectors.put((text, mode), result[0])
                    future.set_result(result)

    def _encode_batch(self, items: list[tuple[str, str]]) -> list:
        """Each model once over the batch, then per query the vectors its mode needs."""
        started = time.perf_counter()
        clip, clip_error = None, None
        wanted = [mode for _, mode in items if needs_clip(mode)]
        strict = [mode for mode in wanted if mode != "hybrid"]  # these fail without CLIP; hybrid goes on
        if wanted:
            try:
                clip = self.clip_for(strict[0] if strict else "hybrid")
            except Exception as exc:
                clip_error = exc
        clip_texts = sorted({t for t, m in items if needs_clip(m)}) if clip is not None else []
        speech_texts = sorted({t for t, m in items if needs_sentence_model(m)})
        clip_vecs = dict(zip(clip_texts, clip.encode_texts(clip_texts))) if clip_texts else {}
        speech_vecs = dict(zip(speech_texts, self.encoders.sentence.encode(speech_texts))) if speech_texts else {}
        seconds = time.perf_counter() - started
        out = []
        for text, mode in items:
            if needs_clip(mode) and mode != "hybrid" and text not in clip_vecs:
                out.append(clip_error or VisualSearchUnavailable("this needs CLIP, which is not available"))
                continue
            out.append((mode_vectors(mode, clip_vecs.get(text), speech_vecs.get(text)), seconds))
        return out
