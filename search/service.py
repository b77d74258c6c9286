"""Answering queries: text or query vectors in, ranked moments out.

A query becomes one vector per space it can reach (CLIP text for the fused and visual spaces,
the sentence-transformer for the speech space). ``fused``, ``visual`` and ``speech`` modes search
one space; ``hybrid`` fuses the ranked lists of every reachable space by weighted RRF. Hits of
one video that touch merge into one moment.
"""
from __future__ import annotations

import logging

import numpy as np

from .encoders import Encoders, VisualSearchUnavailable
from .library import Library
from .rank import Moment, merge_adjacent, rrf

log = logging.getLogger(__name__)

MODES = ("hybrid", "fused", "visual", "speech")


class Searcher:
    def __init__(self, library: Library, encoders: Encoders):
        self.library = library
        self.encoders = encoders
        self.settings = library.settings

    # --- queries
    def text_vectors(self, text: str, mode: str) -> dict[str, np.ndarray]:
        """The query's vector in each space the mode needs (and the encoders can reach)."""
        text = text.strip()
        if not text:
            raise ValueError("the query text is empty")
        vectors: dict[str, np.ndarray] = {}
        if mode in ("fused", "visual"):
            clip_vec = self.encoders.require_clip().encode_texts([text])[0]
            vectors[mode] = clip_vec
        elif mode == "hybrid":
            clip = self.encoders.clip
            if clip is not None:
                clip_vec = clip.encode_texts([text])[0]
                vectors["fused"] = vectors["visual"] = clip_vec
        if mode in ("speech", "hybrid"):
            vectors["speech"] = self.encoders.sentence.encode([text])[0]
        return vectors

    def search_text(self, text: str, mode: str | None = None, k: int = 10) -> list[Moment]:
        mode = self._mode(mode)
        return self.search_vectors(self.text_vectors(text, mode), mode, k)

    def similar_segment(self, segment_id: int, mode: str | None = None, k: int = 10) -> list[Moment]:
        """Moments like an indexed one, using its stored vectors; the moment itself is excluded."""
        mode = self._mode(mode)
        found = self.library.segments([segment_id]).get(int(segment_id))
        if found is None:
            raise LookupError(f"there is no segment {segment_id} in the catalog")
        segment, video = found
        vectors = {}
        for space in ("fused", "visual", "speech"):
            vec = self.library.vector(segment_id, space)
            if vec is not None:
                vectors[space] = vec
        if mode != "hybrid":
            vectors = {mode: vectors[mode]} if mode in vectors else {}
        if not vectors:
            raise LookupError(f"segment {segment_id} has no vector in the {mode} space")
        return self.search_vectors(vectors, mode, k, exclude=(video.id, segment.start, segment.end))

    def search_vectors(self, vectors: dict[str, np.ndarray], mode: str, k: int = 10,
                       exclude: tuple[int, float, float] | None = None) -> list[Moment]:
        """Nearest moments for per-space query vectors; ``exclude`` drops a (video, start, end) span."""
        if k < 1:
            raise ValueError("k must be at least 1")
        mode = self._mode(mode)
        spaces = list(vectors) if mode == "hybrid" else [mode]
        fetch = k * 5 + 10
        ranked: dict[str, list[int]] = {}
        best_score: dict[int, float] = {}
        for space in spaces:
            index = self.library.indexes.get(space)
            if index is None or space not in vectors or len(index) == 0:
                continue
            scores, ids = index.search(vectors[space], fetch)
            hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
            ranked[space] = [i for i, _ in hits]
            for i, s in hits:
                best_score.setdefault(i, s)
        if not ranked:
            return []
        if mode == "hybrid" and len(ranked) > 1:
            order = rrf(ranked, self.settings.hybrid_weights, self.settings.rrf_k)
        else:
            (ids,) = ranked.values()
            order = [(i, best_score[i]) for i in ids]
        rows = self.library.segments([i for i, _ in order])
        moments = []
        for segment_id, score in order:
            if segment_id not in rows:
                continue  # removed since the index was loaded
            segment, video = rows[segment_id]
            if exclude and video.id == exclude[0] and segment.start < exclude[2] and segment.end > exclude[1]:
                continue
            moments.append(Moment(video.path, video.id, segment.id, segment.start, segment.end,
                                  score, segment.transcript))
        return merge_adjacent(moments, k)

    def _mode(self, mode: str | None) -> str:
        mode = mode or self.settings.default_mode
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        return mode


__all__ = ["Searcher", "MODES", "VisualSearchUnavailable"]
