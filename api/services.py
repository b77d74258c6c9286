"""What the search service owns while it runs: models, indexes, catalog, worker threads, jobs.

One ``Services`` object is built by the app's lifespan and handed to routes through a typed
dependency (``api.deps``). Two libraries share the data dir: the *serving* one answers queries
and is never changed in place; the *writer* one takes every change (indexing jobs, deletes),
after which the serving indexes are swapped for fresh copies reconciled with the catalog
(``refresh``). FAISS indexes are not safe to search while another thread adds to them, and
this way no search ever sees an index being changed.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from core.encoders import Encoders
from core.library import Library
from search.service import Searcher
from core.settings import Settings

from .jobs import JobManager
from .metrics import Metrics
from .answers import AnswerCache
from .query import QueryEncoder

T = TypeVar("T")


class Services:
    def __init__(self, settings: Settings, *, encoders: Encoders | None = None, asr=None):
        self.settings = settings
        self.encoders = encoders or Encoders(settings)
        self.asr = asr
        self.library = Library(settings)
        self._writer: Library | None = None
        self.write_lock = threading.Lock()  # one indexing run at a time
        self.searcher = Searcher(self.library, self.encoders)
        self.executor = ThreadPoolExecutor(max(1, settings.server_threads), thread_name_prefix="vidsearch")
        self.queries = QueryEncoder(self.encoders, self.searcher.clip_for, settings.query_cache_size)
        self.answers = AnswerCache(settings.query_cache_size)
        self.metrics = Metrics(self)
        self.thumbnail_dir = settings.data_dir / "thumbnails"
        self.upload_dir = settings.data_dir / "uploads"
        for folder in (self.thumbnail_dir, self.upload_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        self.jobs = JobManager(self)

    @property
    def writer(self) -> Library:
        """The library that takes changes; built on first use (a read-only server never needs it)."""
        if self._writer is None:
            self._writer = Library(self.settings)
        return self._writer

    def indexer(self):
        from indexer.pipeline import Indexer

        return Indexer(self.writer, self.encoders, self.settings, progress=False)

    @functools.cached_property
    def query_clips(self):
        """Turns uploaded clips into query vectors (nothing is written)."""
        from indexer.query_clip import QueryClips

        return QueryClips(self.encoders, self.settings, asr=self.asr)

    @functools.cached_property
    def faces(self):
        """Finds and describes faces in uploaded photos (dlib; loaded on first use)."""
        from core.models.faces import FaceModel

        return FaceModel()

    def refresh(self) -> None:
        """Swap the serving indexes for copies that match the catalog after a change."""
        self.library.reconcile()
        self.answers.invalidate()

    def remove_video(self, video_id: int) -> bool:
        # No need to wait for a running job: the library serialises its own writes (file lock).
        removed = self.writer.remove_video(video_id)
        if removed:
            self.refresh()
        return removed

    def set_tags(self, video_id: int, tags: list[str]) -> list[str]:
        """Replace a video's tags (NotFound when there is no such video); answers filtered by
        tags are computed again."""
        kept = self.writer.set_tags(video_id, add=tags, replace=True)
        self.answers.invalidate()
        return kept

    def warm_up(self) -> None:
        """Load the models before the first query, so nobody waits seconds for it."""
        self.encoders.clip  # noqa: B018 - loads CLIP, or records why it cannot
        self.encoders.sentence.encode(["warm up"])
        if self.encoders.clip is not None:
            self.encoders.clip.encode_texts(["warm up"])

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args)`` on the worker threads: blocking work never runs on the event loop."""
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self.executor, call)

    def close(self) -> None:
        self.jobs.close()
        self.queries.close()
        self.executor.shutdown(wait=True, cancel_futures=True)
