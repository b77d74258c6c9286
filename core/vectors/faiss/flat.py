"""Exact search: every query is compared with every vector (``IndexIDMap2(IndexFlatIP)``).

The reference the approximate types are measured against, and the right choice for small
spaces, where a full scan takes about a millisecond and needs no training or tuning.
"""
from __future__ import annotations

import faiss
import numpy as np

from .base import VectorIndex


class FlatIndex(VectorIndex):
    kind = "flat"

    def __init__(self, dim: int, **params):
        super().__init__(dim, **params)
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _faiss(self) -> faiss.Index:
        return self._index

    def _restore(self, index: faiss.Index, arrays) -> None:
        self._index = index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add_with_ids(vectors, ids)

    def _remove(self, ids: np.ndarray) -> int:
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def _search(self, queries: np.ndarray, k: int, exhaustive: bool):
        return self._index.search(queries, k)

    def _reconstruct(self, segment_id: int) -> np.ndarray:
        try:
            return self._index.reconstruct(segment_id)
        except RuntimeError:
            raise KeyError(f"no vector with id {segment_id}") from None
