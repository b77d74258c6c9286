"""The one interface every vector index type implements, and the work they share.

A ``VectorIndex`` maps stable int64 segment ids to L2-normalised vectors and answers top-k
inner-product (cosine) queries. The public methods do the fixed work (normalising, checking
dimensions, replacing re-added ids, clamping ``k``, the GPU copy, persistence with metadata);
each index type fills in a few ``_hooks``. The Library only ever sees this interface, so a
catalog can move between exact and approximate indexes without the Library changing.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, ClassVar

import faiss
import numpy as np

from ..arrays import checked_batch, normalize
from . import gpu, persist

log = logging.getLogger(__name__)

ExactSource = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""ids -> (the ids found, their full vectors): where a compressed index re-scores candidates."""


class VectorIndex:
    """Id-addressed inner-product search; subclasses are the index types (see ``KINDS``)."""

    kind: ClassVar[str] = ""
    min_train: ClassVar[int] = 0  # vectors needed before the first add (0: no training)
    on_gpu_ok: ClassVar[bool] = True  # FAISS has a GPU version of this type
    # How many videos a search may hand down as a filter (``search(..., video_ids=)``): none for
    # FAISS, whose answers the searcher filters; a Milvus collection filters by itself.
    filter_videos_max: ClassVar[int] = 0

    def __init__(self, dim: int, **params):
        self.dim = int(dim)
        self.params = {**self.default_params(dim), **{k: v for k, v in params.items() if v is not None}}
        self.search_params: dict = {}  # tuned at build time (nprobe, efSearch)
        self.build_info: dict = {}  # when, how long, trained on how many, recall reached
        self.meta: dict = {}  # what was saved with the index (model name, ...), after load()
        self._gpu_device: int | None = None
        self._gpu_index = None
        self.exact_source: ExactSource | None = None  # set by the owner; see search()

    # --- what each type provides
    @classmethod
    def default_params(cls, dim: int) -> dict:
        return {}

    def _faiss(self) -> faiss.Index | None:
        """The CPU FAISS index that is persisted (None before training)."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def ids(self) -> np.ndarray:
        raise NotImplementedError

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        raise NotImplementedError

    def _remove(self, ids: np.ndarray) -> int:
        raise NotImplementedError

    def _search(self, queries: np.ndarray, k: int, exhaustive: bool) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _reconstruct(self, segment_id: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def is_trained(self) -> bool:
        return True

    def train(self, sample: np.ndarray) -> None:
        """Learn the index structure from a sample (no-op for types that need none)."""

    def tuning_grid(self) -> list[dict]:
        """Search settings to try at build time, cheapest first (empty: nothing to tune)."""
        return []

    def needs_rebuild(self) -> str | None:
        """Why this index should be rebuilt from the catalog, or None."""
        return None

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _restore(self, index: faiss.Index, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # --- the shared interface
    def add(self, ids, vectors: np.ndarray) -> None:
        """Add (or replace) vectors by id; trains first on this batch if the type needs it."""
        ids, vectors = checked_batch(ids, vectors, self.dim)
        if len(ids) == 0:
            return
        if not self.is_trained:
            if len(ids) < self.min_train:
                raise ValueError(
                    f"a {self.kind} index must be trained on at least {self.min_train} vectors, got "
                    f"{len(ids)}; use build_index() with more vectors, or a flat index until then"
                )
            self.train(vectors)
        self.remove(ids)  # re-adding an id replaces it rather than duplicating it
        self._add(ids, vectors)
        self._gpu_index = None

    def remove(self, ids) -> int:
        """Delete by id; returns how many were present (missing ids change nothing)."""
        ids = np.unique(np.asarray(ids, dtype=np.int64).ravel())
        if len(ids) == 0 or len(self) == 0:
            return 0
        removed = int(self._remove(ids))
        if removed:
            self._gpu_index = None
        return removed

    def reconstruct(self, segment_id: int) -> np.ndarray:
        """The stored vector of one id (approximate for compressed types); KeyError if absent."""
        return self._reconstruct(int(segment_id))

    def search(self, queries: np.ndarray, k: int, video_ids=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row, at most ``len(self)`` columns; missing slots are -1.
        A FAISS index does not filter (``filter_videos_max`` is 0): ``video_ids`` must be None.

        With a ``rerank`` search parameter R and an ``exact_source``, the index's own top ``k*R``
        are re-scored with the full vectors from the source: compressed codes find candidates
        cheaply, exact vectors (kept elsewhere, in the catalog) put them in the right order.
        """
        if video_ids is not None:
            raise ValueError(f"a {self.kind} index does not filter by video; the searcher filters its answers")
        queries = normalize(queries)
        n = len(self)
        if n == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        k = max(1, min(int(k), n))
        rerank = int(self.search_params.get("rerank", 0)) if self.exact_source is not None else 0
        fetch = min(n, k * rerank) if rerank > 1 else k
        exhaustive = fetch >= n  # every vector is asked for: an approximate pass could miss some
        if self._gpu_device is not None and not exhaustive and fetch <= gpu.MAX_K:
            scores, ids = self._search_gpu(queries, fetch)
        else:
            scores, ids = self._search(queries, fetch, exhaustive)
        return self._rescore(queries, ids, k) if rerank > 1 else (scores, ids)

    def _rescore(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` among each row's candidates (ids the source no longer has are dropped)."""
        wanted = np.unique(candidates[candidates >= 0])
        found, vectors = self.exact_source(wanted)
        row_of = {int(i): r for r, i in enumerate(found)}
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, row in enumerate(candidates):
            have = [i for i in row.tolist() if i in row_of]
            if not have:
                continue
            exact = normalize(vectors[[row_of[i] for i in have]]) @ queries[q]
            best = np.argsort(-exact, kind="stable")[:k]
            scores[q, :len(best)], ids[q, :len(best)] = exact[best], np.asarray(have)[best]
        return scores, ids

    # --- GPU
    def to_device(self, device: str = "auto") -> bool:
        """Search on a GPU when FAISS has one and ``device`` allows it; True if it will."""
        gpu_no = gpu.resolve(device)
        if gpu_no is not None and not self.on_gpu_ok:
            log.info("%s indexes have no FAISS GPU version; searching on the CPU", self.kind)
            gpu_no = None
        self._gpu_device, self._gpu_index = gpu_no, None
        return gpu_no is not None

    @property
    def device(self) -> str:
        return "cpu" if self._gpu_device is None else f"cuda:{self._gpu_device}"

    def _search_gpu(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._gpu_index is None:  # (re)uploaded lazily: writes change the CPU copy only
            self._gpu_index = gpu.to_gpu(self._faiss(), self._gpu_device, self.kind)
            gpu.apply_search_params(self._gpu_index, self.search_params)
        return self._gpu_index.search(queries, k)

    # --- persistence
    def metadata(self) -> dict:
        return {
            "kind": self.kind,
            "dim": self.dim,
            "count": len(self),
            "faiss_version": faiss.__version__,
            "params": self.params,
            "search_params": self.search_params,
            "build": self.build_info,
            "saved_at": time.time(),
        }

    def save(self, path: Path, meta: dict | None = None) -> None:
        """Write atomically (index and metadata in one file); the previous file is kept as ``.prev``."""
        index = self._faiss()
        if index is None:  # an untrained index holds nothing yet: save an empty exact one
            empty = {**self.metadata(), "kind": "flat", "params": {}, "search_params": {}, "build": {}}
            persist.write_atomic(Path(path), faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim)), {**empty, **(meta or {})})
            return
        persist.write_atomic(Path(path), index, {**self.metadata(), **(meta or {})}, self._extra_arrays())
