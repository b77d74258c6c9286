"""The one registry of index types, and the factory that fails loudly on unknown kinds."""
from __future__ import annotations

from pathlib import Path

import faiss

from . import persist
from .base import VectorIndex
from .flat import FlatIndex
from .hnsw import HNSWIndex
from .ivf import IVFFlatIndex, IVFPQIndex

KINDS: dict[str, type[VectorIndex]] = {
    cls.kind: cls for cls in (FlatIndex, HNSWIndex, IVFFlatIndex, IVFPQIndex)
}


def index_class(kind: str) -> type[VectorIndex]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown vector index kind {kind!r}; known: {', '.join(KINDS)}") from None


def make_index(kind: str, dim: int, **params) -> VectorIndex:
    """An empty index of ``kind`` (flat, hnsw, ivf_flat, ivf_pq); trained types train on first add.

    ``params`` are the type's build parameters (hnsw: M, efConstruction; ivf_*: nlist, niter;
    ivf_pq: m, nbits, opq). Unknown kinds and parameters fail loudly.
    """
    cls = index_class(kind)
    unknown = set(params) - set(cls.default_params(dim))
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)} for a {kind} index; "
                         f"known: {sorted(cls.default_params(dim))}")
    return cls(dim, **params)


def kind_of(index: faiss.Index) -> str:
    """The kind of a plain FAISS file written before metadata was stored with it."""
    index = faiss.downcast_index(index)
    if isinstance(index, (faiss.IndexIDMap2, faiss.IndexIDMap)):
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexFlat):
            return "flat"
    raise ValueError(f"cannot tell which vidsearch index type a {type(index).__name__} is; rebuild it")


def load_index(path: Path, mapped: bool = False) -> VectorIndex:
    """Load any index file; the type comes from its metadata (plain FAISS files: from the index).
    ``mapped``: read-only, its vectors left in the file (``persist.read``)."""
    index, meta, arrays = persist.read(Path(path), mapped)
    loaded = index_class(meta.get("kind") or kind_of(index))(index.d, **meta.get("params", {}))
    loaded._restore(index, arrays)
    loaded.search_params = dict(meta.get("search_params", {}))
    loaded.build_info = dict(meta.get("build", {}))
    loaded.meta = meta
    return loaded
