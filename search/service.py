"""Answering queries: text or query vectors in, ranked moments out.

A query becomes one vector per space it can reach (CLIP text for the fused and visual spaces,
the sentence-transformer for the speech space) and, for text, a keyword query over transcripts.
``fused``, ``visual``, ``speech`` and ``keyword`` modes use one list; ``hybrid`` fuses the ranked
lists of every reachable space (``rank.score_fusion`` or RRF, with the ranking of the active
profile, see ``profile``). Filters narrow every list to the segments they allow. Neighbouring hits
of one video that score close merge into one bounded moment; ``per_video`` keeps the best moment
of each video. Searching is two steps, ``gather`` (the lists) and ``rank`` (fusion and moments),
so evaluation and tuning can re-rank the same lists many ways without searching again.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Iterator

import numpy as np

from core.chapter_formats import chapter_at
from core.encoders import Encoders, VisualSearchUnavailable
from core.errors import InvalidInput, NotFound
from .filters import Allowed, Filters, allowed
from .keyword import KeywordSearch
from core.library import Library
from .profile import Ranking, ranking_for
from .query_text import query_text
from .relevance import label as relevance_label
from .rank import (STANDARDISE_DEPTH, Moment, mark_matches, merge_adjacent, rrf, score_fusion, score_spread,
                   unit_of, whole_unit)
from core.settings import SEARCH_MODES
from core.vectors import CLIP_TEXT_SPACES
from .modes import MODE_SPACES, mode_vectors, needs_clip, needs_sentence_model, uses_keywords
from core.vectors import normalize

log = logging.getLogger(__name__)

MODES = SEARCH_MODES
EXACT_FILTER_LIMIT = 20_000  # up to this many allowed segments, score them exactly from the catalog


class Searcher:
    def __init__(self, library: Library, encoders: Encoders):
        self.library = library
        self.encoders = encoders
        self.settings = library.settings
        self.keyword_search = KeywordSearch(self.settings.keyword_budget)
        self.ranking = ranking_for(self.settings)

    # --- queries
    def text_vectors(self, text: str, mode: str) -> dict[str, np.ndarray]:
        """The query's vector in each space the mode needs (and the encoders can reach): hybrid
        leaves out CLIP's spaces when CLIP is not available; fused and visual modes need it."""
        text = query_text(text)
        clip_vector = speech_vector = None
        clip = self.clip_for(mode)
        if clip is not None:
            clip_vector = clip.encode_texts([text])[0]
        if needs_sentence_model(mode):
            speech_vector = self.encoders.sentence.encode([text])[0]
        return mode_vectors(mode, clip_vector, speech_vector)

    def clip_for(self, mode: str):
        """CLIP for a query in ``mode``, or None when it would search nothing: ``hybrid`` over a
        catalog without CLIP vectors (indexed speech-only) never loads it, so such a query process
        starts without torch. Other CLIP modes need it (``VisualSearchUnavailable`` otherwise)."""
        if not needs_clip(mode):
            return None
        if mode != "hybrid":
            return self.encoders.require_clip(text_only=True)
        return self.encoders.clip_text if self.library.has_vectors(CLIP_TEXT_SPACES) else None

    def search_text(self, text: str, mode: str | None = None, k: int = 10, filters: Filters | None = None,
                    per_video: bool = False, offset: int = 0) -> list[Moment]:
        mode = self._mode(mode)
        vectors = self.text_vectors(text, mode)  # checks the text, for keyword mode too (no vectors)
        return self.search_vectors(vectors, mode, k, filters=filters, per_video=per_video, keywords=text,
                                   offset=offset)

    def similar_segment(self, segment_id: int, mode: str | None = None, k: int = 10,
                        filters: Filters | None = None, per_video: bool = False, offset: int = 0) -> list[Moment]:
        """Moments like an indexed one, using its stored vectors; the moment itself is excluded."""
        mode = self._mode(mode)
        found = self.library.segments([segment_id]).get(int(segment_id))
        if found is None:
            raise NotFound(f"there is no segment {segment_id} in the catalog")
        segment, video = found
        vectors = {}
        for space in ("fused", "visual", "speech"):
            vec = self.library.vector(segment_id, space)
            if vec is not None:
                vectors[space] = vec
        if mode != "hybrid":
            vectors = {mode: vectors[mode]} if mode in vectors else {}
        if not vectors:
            raise NotFound(f"segment {segment_id} has no vector in the {mode} space")
        return self.search_vectors(vectors, mode, k, exclude=(video.id, segment.start, segment.end),
                                   filters=filters, per_video=per_video, offset=offset)

    def search_vectors(self, vectors: dict[str, np.ndarray], mode: str, k: int = 10,
                       exclude: tuple[int, float, float] | None = None, filters: Filters | None = None,
                       per_video: bool = False, keywords: str | None = None, offset: int = 0) -> list[Moment]:
        """Nearest moments for per-space query vectors; ``exclude`` drops a (video, start, end) span.

        ``offset`` pages: moments ``offset`` to ``offset + k`` of the same ranking, never one that
        an earlier page showed. ``keywords``, the query's text, makes it a text query: the keyword
        list joins where the mode uses one, and moments get a relevance label (``search.relevance``).
        """
        if k < 1:
            raise InvalidInput("k must be at least 1")
        if offset < 0:
            raise InvalidInput("offset must not be negative")
        mode = self._mode(mode)
        lists = self.gather(vectors, mode, offset + k, filters, per_video, keywords)
        moments = self.in_chapters(self.rank(lists, mode, k, offset=offset, exclude=exclude, per_video=per_video))
        return self.label(moments, mode) if keywords is not None else moments

    def in_chapters(self, moments: list[Moment]) -> list[Moment]:
        """Say which chapter each moment starts in (one catalog read for them all)."""
        shown = self.library.shown_chapters({m.video_id for m in moments}) if moments else {}
        for moment in moments:
            mark = chapter_at(shown.get(moment.video_id, []), moment.start)
            moment.chapter = mark.title if mark is not None else None
        return moments

    def label(self, moments: list[Moment], mode: str) -> list[Moment]:
        """Give a text query's moments their relevance label (``search.relevance``)."""
        for moment in moments:
            moment.relevance = relevance_label(moment.evidence, mode, self.settings.relevance_thresholds)
        return moments

    def gather(self, vectors: dict[str, np.ndarray], mode: str, k: int, filters: Filters | None = None,
               per_video: bool = False, keywords: str | None = None) -> dict[str, list[tuple[int, float]]]:
        """The ranked hits of every list the mode uses: {space or "keyword": [(segment id, score)]}.

        In hybrid mode the keyword list's scores are each hit's query coverage (see
        ``KeywordSearch.coverage``); in keyword mode they are BM25 scores.
        """
        scope = None
        if filters is not None and filters.active:
            with self.library.sessions() as session:
                scope = allowed(session, filters)
            if not scope.segments:
                return {}
        # At least a fixed depth, so that fusion and merging see the same head of every list
        # whatever page is asked for (pages must not repeat moments).
        want = max(STANDARDISE_DEPTH, k * (20 if per_video else 5) + 10)
        lists: dict[str, list[tuple[int, float]]] = {}
        for space in (space for space in MODE_SPACES[mode] if space in vectors):
            hits = self._nearest(space, vectors[space], want, scope)
            if hits:
                lists[space] = hits
        if keywords and uses_keywords(mode):
            with self.library.sessions() as session:
                hits = self.keyword_search.search(
                    session, keywords, want if scope is None else want * 20,
                    all_common="and" if mode == "keyword" else "skip")
                hits = [(i, s) for i, s in hits if scope is None or i in scope.segments][:want]
                if hits and mode == "hybrid":
                    hits = self.keyword_search.with_coverage(session, keywords, hits)
            if hits:
                lists["keyword"] = hits
        return lists

    def rank(self, lists: dict[str, list[tuple[int, float]]], mode: str, k: int, *, offset: int = 0,
             exclude=None, per_video: bool = False, ranking: Ranking | None = None) -> list[Moment]:
        """Moments ``offset`` to ``offset + k`` from gathered lists (``gather``), fused as
        ``ranking`` says (default: this searcher's ranking)."""
        ranking = ranking or self.ranking
        if not lists:
            return []
        if mode == "hybrid" and len(lists) > 1:
            if ranking.fusion == "rrf":
                evidence = dict(lists.get("keyword", []))
                order = rrf({name: [i for i, _ in hits] for name, hits in lists.items()},
                            ranking.weights, ranking.rrf_k, evidence)
            else:
                order = score_fusion(lists, ranking.weights)
        else:
            (order,) = lists.values()
        return mark_matches(self._moments(order, offset + k, exclude, per_video, ranking)[offset:], lists)

    def _nearest(self, space: str, query: np.ndarray, want: int, scope: Allowed | None) -> list[tuple[int, float]]:
        index = self.library.indexes.get(space)
        if index is None or len(index) == 0:
            return []
        allowed = None if scope is None else scope.segments
        if allowed is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            return self._exact(space, query, want, allowed)
        if allowed is not None and len(scope.videos) <= index.filter_videos_max:
            scores, ids = index.search(query, want, video_ids=scope.videos)  # the store filters
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and int(i) in allowed]
        fetch = want
        while True:  # over-fetch until enough allowed hits, or the whole index has been seen
            scores, ids = index.search(query, fetch)
            hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0])
                    if i >= 0 and (allowed is None or int(i) in allowed)]
            if len(hits) >= want or fetch >= len(index):
                return hits[:want]
            fetch = min(len(index), fetch * 4)

    def _exact(self, space: str, query: np.ndarray, want: int, allowed: set[int]) -> list[tuple[int, float]]:
        """Score a small allowed set exactly, from the vectors the catalog keeps."""
        ids, rows = self.library.exact_vectors(space, allowed)
        if not len(ids):
            return []
        scores = rows @ normalize(query)[0]
        top = np.argsort(-scores, kind="stable")[:want]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def _moments(self, order: list[tuple[int, float]], limit: int, exclude, per_video: bool,
                 ranking: Ranking) -> list[Moment]:
        moments = self._hits(order, limit, exclude, ranking.moment_max)
        if not per_video:
            return merge_adjacent(moments, limit, ranking.moment_max, ranking.merge_close, score_spread(order),
                                  ranking.merge_border)
        best, seen = [], set()
        for moment in moments:  # best first: the first hit of each video is its best moment
            if moment.video_id not in seen:
                seen.add(moment.video_id)
                best.append(whole_unit(dataclasses.replace(moment, segment_ids=[moment.segment_id])))
                if len(best) == limit:
                    break
        return best

    def _hits(self, order: list[tuple[int, float]], k: int, exclude, max_len: float) -> Iterator[Moment]:
        """``order``'s segments as moments, best first, read from the catalog a chunk at a time.

        Ranking over-fetches (each list holds 5k+10 hits) but a page of moments usually needs the
        first few; reading rows lazily keeps a search from loading hundreds it never shows.
        """
        chunk, position = 2 * k + 10, 0
        while position < len(order):
            part = order[position:position + chunk]
            rows = self.library.moment_rows([i for i, _ in part])
            cuts = self.library.strong_cuts({row.video_id for row in rows.values()})
            for segment_id, score in part:
                row = rows.get(segment_id)
                if row is None:
                    continue  # removed since the index was loaded
                if exclude and row.video_id == exclude[0] and row.start < exclude[2] and row.end > exclude[1]:
                    continue
                yield Moment(row.video_path, row.video_id, segment_id, row.start, row.end, score, row.transcript,
                             border=0.0 if row.border is None else row.border, screen_text=row.screen_text or "",
                             unit=unit_of(row.start, cuts.get(row.video_id, []), row.duration, max_len),
                             language=row.language)
            position, chunk = position + len(part), chunk * 2

    def _mode(self, mode: str | None) -> str:
        mode = mode or self.settings.default_mode
        if mode not in MODES:
            raise InvalidInput(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        return mode


__all__ = ["Searcher", "Filters", "MODES", "VisualSearchUnavailable"]
