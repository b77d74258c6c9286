"""Vectors as every store takes them: float32 rows of unit length, one per stable id."""
from __future__ import annotations

import numpy as np


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation as float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def checked_batch(ids, vectors, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` as int64 and ``vectors`` normalised, for an add of any store: one vector of ``dim``
    per id, no id twice (ValueError otherwise). An empty batch comes back empty."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    if len(ids) == 0:
        return ids, np.zeros((0, dim), np.float32)
    vectors = normalize(vectors)
    if vectors.shape != (len(ids), dim):
        raise ValueError(f"expected {len(ids)} vectors of dimension {dim}, got {vectors.shape}")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("the same id appears twice in one add")
    return ids, vectors
