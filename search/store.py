"""The vector store: one FAISS index per space, addressed by segment id.

Ids are the catalog's segment ids (stable, never reused), so a hit maps straight back to a
row. The index is a derived artefact: it is written atomically (temp file, fsync, rename; the
previous file kept as ``.prev``) and reconciled with the catalog whenever it is opened.
Vectors are L2-normalised, so inner product is cosine similarity.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import faiss
import numpy as np


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation as float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class VectorIndex:
    """Exact inner-product search over id-addressed vectors (FAISS ``IndexIDMap2(IndexFlatIP)``)."""

    kind = "flat"

    def __init__(self, dim: int, index: faiss.Index | None = None):
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        vectors = normalize(vectors)
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dimension {self.dim}, got {vectors.shape}")
        self.remove(ids)  # re-adding an id replaces it rather than duplicating it
        self._index.add_with_ids(vectors, ids)

    def remove(self, ids) -> int:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def reconstruct(self, segment_id: int) -> np.ndarray:
        return self._index.reconstruct(int(segment_id))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row; missing slots have id -1."""
        queries = normalize(queries)
        k = max(1, min(int(k), len(self))) if len(self) else 1
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, ids = self._index.search(queries, k)
        return scores, ids

    # --- persistence
    def save(self, path: Path, meta: dict | None = None) -> None:
        """Write atomically: a crash leaves either the old or the new file, never half of one."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if path.exists():
            os.replace(path, path.with_suffix(path.suffix + ".prev"))
        os.replace(tmp, path)
        info = {
            "kind": self.kind,
            "dim": self.dim,
            "count": len(self),
            "faiss_version": faiss.__version__,
            "saved_at": time.time(),
            **(meta or {}),
        }
        meta_tmp = path.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(info, indent=1))
        os.replace(meta_tmp, path.with_suffix(".json"))
        _fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        index = faiss.read_index(str(path))
        return cls(index.d, index)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_index(kind: str, dim: int) -> VectorIndex:
    """The one factory for vector indexes; unknown kinds fail loudly."""
    if kind == "flat":
        return VectorIndex(dim)
    raise ValueError(f"unknown vector index kind {kind!r}; known: flat")
