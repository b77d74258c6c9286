"""The vector store: one FAISS index per space, addressed by segment id.

Ids are the catalog's segment ids (stable, never reused), so a hit maps straight back to a
row. The index is a derived artefact: it is written atomically (temp file, fsync, rename; the
previous file kept as ``.prev``) with its metadata inside the same file, and reconciled with
the catalog whenever it is opened. Vectors are L2-normalised, so inner product is cosine.

The index types (exact, HNSW, IVF-Flat, IVF-PQ), the rule that picks one by size and memory,
building with tuning, and the GPU copy live in ``search.vector_index``; this module is the
stable entry point the rest of vidsearch imports from.
"""
from __future__ import annotations

from .vector_index import (
    KINDS,
    FlatIndex,
    HNSWIndex,
    IVFFlatIndex,
    IVFPQIndex,
    VectorIndex,
    build_index,
    build_params,
    bytes_per_vector,
    choose_kind,
    gpu_count,
    make_index,
    normalize,
    rebuild_reason,
    target_kind,
)

__all__ = [
    "VectorIndex", "FlatIndex", "HNSWIndex", "IVFFlatIndex", "IVFPQIndex", "KINDS",
    "make_index", "build_index", "choose_kind", "build_params", "bytes_per_vector",
    "target_kind", "rebuild_reason", "normalize", "gpu_count",
]
