"""Vector index types behind one interface: exact, HNSW, IVF-Flat and IVF-PQ (OPQ).

``make_index`` (one type, empty), ``build_index`` (a full set: train, add, tune), ``choose_kind``
and ``rebuild_reason`` (which type for which size), ``load_index`` (any saved index).
"""
from ..arrays import normalize
from .base import VectorIndex
from .build import build_index, exact_search, recall_at_k, rows_source
from .choose import build_params, bytes_per_vector, choose_kind, rebuild_reason, target_kind
from .factory import KINDS, load_index, make_index
from .flat import FlatIndex
from .gpu import gpu_count
from .hnsw import HNSWIndex
from .ivf import IVFFlatIndex, IVFPQIndex

__all__ = [
    "VectorIndex", "FlatIndex", "HNSWIndex", "IVFFlatIndex", "IVFPQIndex", "KINDS",
    "make_index", "load_index", "build_index", "choose_kind", "build_params", "bytes_per_vector",
    "target_kind", "rebuild_reason", "normalize", "exact_search", "recall_at_k", "rows_source", "gpu_count",
]
