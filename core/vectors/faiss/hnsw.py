"""HNSW: a navigable graph, fast and accurate without training, for up to a few million vectors.

FAISS's HNSW cannot delete (``remove_ids`` is unsupported), so deletion here is a tombstone:
positions are marked dead in a bitmap that search passes to FAISS as an ``IDSelectorBitmap``,
so dead vectors are skipped during the graph walk (no over-fetch guesswork). Ids are ours: an
array from graph position to segment id, persisted with the index. ``len()`` and ``ids()``
count live vectors only; ``needs_rebuild`` asks for a rebuild (which drops the dead) once they
are a fifth of the graph. Rows the filtered walk leaves short are answered by an exact scan of
the stored vectors, so results are never missing while enough vectors are alive.

HNSW has no FAISS GPU version: on a GPU machine the auto rule prefers IVF.
"""
from __future__ import annotations

import faiss
import numpy as np

from .base import VectorIndex

MAX_DEAD_FRACTION = 0.2


class HNSWIndex(VectorIndex):
    kind = "hnsw"
    on_gpu_ok = False

    @classmethod
    def default_params(cls, dim: int) -> dict:
        return {"M": 32, "efConstruction": 64}

    def __init__(self, dim: int, **params):
        super().__init__(dim, **params)
        self._index = faiss.IndexHNSWFlat(self.dim, int(self.params["M"]), faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = int(self.params["efConstruction"])
        self._ids = np.zeros(0, np.int64)  # graph position -> segment id
        self._dead = np.zeros(0, bool)
        self._live_bits: np.ndarray | None = None  # packed ~dead, rebuilt after a change

    def _faiss(self) -> faiss.Index:
        return self._index

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"ids": self._ids, "dead": np.packbits(self._dead, bitorder="little")}

    def _restore(self, index: faiss.Index, arrays) -> None:
        self._index = index  # read_index gives the derived type; a downcast copy would not own it
        self._ids = arrays["ids"].astype(np.int64)
        self._dead = np.unpackbits(arrays["dead"], count=len(self._ids), bitorder="little").astype(bool)
        self._live_bits = None

    def __len__(self) -> int:
        return int(len(self._ids) - np.count_nonzero(self._dead))

    @property
    def dead_count(self) -> int:
        return int(np.count_nonzero(self._dead))

    def ids(self) -> np.ndarray:
        return self._ids[~self._dead]

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add(vectors)
        self._ids = np.concatenate([self._ids, ids])
        self._dead = np.concatenate([self._dead, np.zeros(len(ids), bool)])
        self._live_bits = None

    def _remove(self, ids: np.ndarray) -> int:
        hit = np.isin(self._ids, ids) & ~self._dead
        count = int(np.count_nonzero(hit))
        if count:
            self._dead |= hit
            self._live_bits = None
        return count

    def _reconstruct(self, segment_id: int) -> np.ndarray:
        where = np.flatnonzero((self._ids == segment_id) & ~self._dead)
        if len(where) == 0:
            raise KeyError(f"no vector with id {segment_id}")
        return self._index.reconstruct(int(where[0]))

    def _selector(self):
        """(selector, the bitmap it points into) for live positions; None when nothing is dead."""
        if not self._dead.any():
            return None, None
        if self._live_bits is None:
            self._live_bits = np.packbits(~self._dead, bitorder="little")
        bits = self._live_bits
        return faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)), bits

    def _search(self, queries: np.ndarray, k: int, exhaustive: bool):
        selector, bits = self._selector()  # ``bits`` keeps the bitmap alive during the search
        if exhaustive:
            scores, pos = self._scan(queries, k, selector)
        else:
            ef = max(int(self.search_params.get("efSearch", 64)), k)
            params = faiss.SearchParametersHNSW(efSearch=ef)
            if selector is not None:
                params.sel = selector
            scores, pos = self._index.search(queries, k, params=params)
            short = np.flatnonzero((pos < 0).any(axis=1))
            if len(short):  # the filtered walk ran dry: answer those rows exactly
                scores[short], pos[short] = self._scan(queries[short], k, selector)
        ids = np.where(pos >= 0, self._ids[np.maximum(pos, 0)], -1)
        return scores, ids

    def _scan(self, queries: np.ndarray, k: int, selector):
        storage = faiss.downcast_index(self._index.storage)
        params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        return storage.search(queries, k, params=params)

    def tuning_grid(self) -> list[dict]:
        return [{"efSearch": ef} for ef in (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)]

    def needs_rebuild(self) -> str | None:
        total = len(self._ids)
        if total and self.dead_count > MAX_DEAD_FRACTION * total:
            return f"{self.dead_count} of {total} graph nodes are deleted; a rebuild drops them"
        return None
