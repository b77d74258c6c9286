"""Vectors: where a library's embeddings live and are searched, one package for every backend.

- ``protocol``: what the library and the searcher ask of any store (``NearestIndex``, ``IndexSet``);
- ``spaces``: the vector spaces, registered once (``INDEXED``: the ones with an index);
- ``factory``: ``make_index_set``, the backend the settings name (FAISS or Milvus);
- ``faiss``: FAISS files in the data dir (exact, HNSW, IVF-Flat, IVF-PQ; GPU when present);
- ``milvus``: collections in a Milvus server (or milvus-lite);
- ``arrays``: vectors as every store takes them (unit-length float32 rows).

Ids are the catalog's segment ids (stable, never reused), so a hit maps straight back to a row.
Every store is derived from the catalog and reconciled with it when opened. This front door
imports no backend: FAISS and Milvus load when chosen.
"""
from .arrays import normalize
from .factory import make_index_set
from .protocol import Added, IndexSet, NearestIndex, Removed, disagrees
from .spaces import CLIP_TEXT_SPACES, INDEXED, SPOKEN

__all__ = ["normalize", "make_index_set", "Added", "IndexSet", "NearestIndex", "Removed", "disagrees",
           "CLIP_TEXT_SPACES", "INDEXED", "SPOKEN"]
