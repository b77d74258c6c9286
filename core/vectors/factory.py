"""The one factory of index sets: the backend the settings name, imported only when chosen."""
from __future__ import annotations

from ..settings import Settings
from .protocol import IndexSet

BACKENDS = ("faiss", "milvus")


def make_index_set(settings: Settings, exact_vectors, read_only: bool = False) -> IndexSet:
    """FAISS files in the data dir, or Milvus collections, as ``settings.vector_backend`` says.
    ``exact_vectors(space, ids)`` reads full vectors from the catalog (compressed FAISS indexes
    re-score with them); ``read_only``: for a process that only queries (FAISS files are then
    mapped, not copied)."""
    if settings.vector_backend == "faiss":
        from .faiss.index_set import FaissIndexSet

        return FaissIndexSet(settings, exact_vectors, read_only)
    if settings.vector_backend == "milvus":
        from .milvus.index_set import MilvusIndexSet

        return MilvusIndexSet(settings)
    raise ValueError(f"unknown vector backend {settings.vector_backend!r}; known: {', '.join(BACKENDS)}")
