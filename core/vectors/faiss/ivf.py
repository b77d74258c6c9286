"""Inverted-file indexes: vectors are bucketed by nearest centroid and a query scans ``nprobe``
buckets. IVF-Flat keeps full vectors (accurate, 4 bytes a dimension); IVF-PQ keeps product-
quantised codes (``m`` bytes a vector, optionally after an OPQ rotation that makes the
sub-spaces carry similar energy, which is what lets 8-dimensional sub-quantisers work on CLIP
vectors). Both need training on a sample, and both have FAISS GPU versions.

Ids are FAISS's own (``add_with_ids``, no id map: an ``IndexIDMap`` over IVF breaks on
``remove_ids``). ``reconstruct`` needs an id -> bucket table; it is made on first use only,
since it costs memory that search never needs.
"""
from __future__ import annotations

import faiss
import numpy as np

from .base import VectorIndex

HNSW_COARSE_FROM = 8192  # from this many buckets, a graph finds a vector's nearest buckets (see _IVFIndex)
MIN_POINTS_PER_LIST = 39  # FAISS's k-means wants at least this many training points per centroid
GROWTH_BEFORE_REBUILD = 4  # lists get 4x longer than trained for: retrain for a larger nlist


def nlist_for(n: int) -> int:
    """Buckets for ``n`` vectors: a power of two near 4*sqrt(n) (the usual FAISS guidance)."""
    target = 4 * np.sqrt(max(n, 1))
    return int(max(1, 2 ** round(np.log2(max(target, 1)))))


class _IVFIndex(VectorIndex):
    """Shared IVF behaviour; subclasses give the FAISS factory string.

    Up to a few million vectors the buckets' centres are scanned exactly. Beyond, the scan is
    what costs: adding 10M vectors to 16k buckets is 10M x 16k distance computations (~25 min
    on 2 cores) and so is each k-means round. From ``HNSW_COARSE_FROM`` buckets an HNSW graph
    over the centres answers "which buckets" for training, adding and searching alike (FAISS's
    ``IVFn_HNSW32``), searched wide enough (``efSearch`` >= 2 x nprobe) not to cost recall.
    The ``graph_from`` parameter moves that threshold.
    """

    @classmethod
    def default_params(cls, dim: int) -> dict:
        return {"nlist": None, "niter": 10, "trained_for": None, "graph_from": HNSW_COARSE_FROM}

    def __init__(self, dim: int, **params):
        super().__init__(dim, **params)
        self._index: faiss.Index | None = None

    def factory_string(self, nlist: int) -> str:
        raise NotImplementedError

    def coarse(self, nlist: int) -> str:
        """The factory string of the bucket assignment: exact, or through a graph when there are many."""
        return f"IVF{nlist}_HNSW32" if self._graph(nlist) else f"IVF{nlist}"

    def _graph(self, nlist: int) -> bool:
        return nlist >= int(self.params.get("graph_from") or HNSW_COARSE_FROM)

    def _configure(self, index: faiss.Index) -> None:
        """Adjust a freshly made FAISS index before training."""

    def _faiss(self) -> faiss.Index | None:
        return self._index

    def _ivf(self) -> faiss.IndexIVF:
        return faiss.extract_index_ivf(self._index)

    def _restore(self, index: faiss.Index, arrays) -> None:
        self._index = index
        self.params["nlist"] = int(self._ivf().nlist)

    @property
    def is_trained(self) -> bool:
        return self._index is not None and self._index.is_trained

    def train(self, sample: np.ndarray, expected: int | None = None) -> None:
        """Train on ``sample``; ``nlist`` is sized for ``expected`` vectors (default: the sample)."""
        n = len(sample)
        if n < self.min_train:
            raise ValueError(f"a {self.kind} index needs at least {self.min_train} training vectors, got {n}")
        expected = int(expected or self.params.get("trained_for") or n)
        nlist = int(self.params.get("nlist") or nlist_for(expected))
        nlist = max(1, min(nlist, n // MIN_POINTS_PER_LIST))
        index = faiss.index_factory(self.dim, self.factory_string(nlist), faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.niter = int(self.params["niter"])
        if self._graph(nlist):  # k-means rounds assign through a graph too (kept alive here)
            assigner = ivf.clustering_index = faiss.IndexHNSWFlat(self.dim, 32)
            assigner.hnsw.efSearch = 64
        self._configure(index)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        ivf.clustering_index = None
        self._index = index
        self.params.update(nlist=nlist, trained_for=expected)
        self._gpu_index = None

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        if not len(self):
            return np.zeros(0, np.int64)
        ivf = self._ivf()
        lists = ivf.invlists
        parts = []
        for bucket in range(ivf.nlist):
            size = lists.list_size(bucket)
            if size:
                parts.append(faiss.rev_swig_ptr(lists.get_ids(bucket), size).copy())
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def _has_direct_map(self) -> bool:
        return self._ivf().direct_map.type != faiss.DirectMap.NoMap

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add_with_ids(vectors, ids)

    def _remove(self, ids: np.ndarray) -> int:
        # with an id table FAISS only accepts an explicit id list; without one a hash set is O(1)
        selector = faiss.IDSelectorArray(ids) if self._has_direct_map() else faiss.IDSelectorBatch(ids)
        return int(self._index.remove_ids(selector))

    def _reconstruct(self, segment_id: int) -> np.ndarray:
        if self._index is None:
            raise KeyError(f"no vector with id {segment_id}")
        if not self._has_direct_map():
            self._ivf().set_direct_map_type(faiss.DirectMap.Hashtable)
        try:
            return self._index.reconstruct(segment_id)
        except RuntimeError:
            raise KeyError(f"no vector with id {segment_id}") from None

    def _search(self, queries: np.ndarray, k: int, exhaustive: bool):
        nlist = self._ivf().nlist
        nprobe = nlist if exhaustive else min(nlist, int(self.search_params.get("nprobe", 16)))
        params = faiss.SearchParametersIVF(nprobe=nprobe)
        if isinstance(faiss.downcast_index(self._ivf().quantizer), faiss.IndexHNSW):
            graph = faiss.SearchParametersHNSW(efSearch=max(64, 2 * nprobe))
            params.quantizer_params = graph  # (the local keeps it alive through the search)
        return self._index.search(queries, k, params=params)

    def tuning_grid(self) -> list[dict]:
        nlist = int(self.params["nlist"])
        steps = sorted({int(b * m) for b in (2 ** np.arange(20)) for m in (1, 1.5)})
        return [{"nprobe": p} for p in steps if p < nlist] + [{"nprobe": nlist}]

    def needs_rebuild(self) -> str | None:
        trained_for = self.params.get("trained_for") or 0
        if trained_for and len(self) > GROWTH_BEFORE_REBUILD * trained_for:
            return (f"{self.kind} was trained for {trained_for} vectors and now holds {len(self)}; "
                    "a rebuild retrains it with more buckets")
        return None


class IVFFlatIndex(_IVFIndex):
    kind = "ivf_flat"
    min_train = 64

    def factory_string(self, nlist: int) -> str:
        return f"{self.coarse(nlist)},Flat"


class IVFPQIndex(_IVFIndex):
    kind = "ivf_pq"
    min_train = 10_000  # 256 centroids per sub-quantiser x 39 points each, for PQ and OPQ

    @classmethod
    def default_params(cls, dim: int) -> dict:
        # OPQ pays off on wide vectors (CLIP 512, MiniLM 384), where 8-dimensional sub-spaces
        # of a rotated space carry similar energy; below 128 dimensions it costs more than it gives
        return {**super().default_params(dim), "m": pq_m_for(dim), "nbits": 8, "opq": dim >= 128,
                "opq_niter": 10}

    def __init__(self, dim: int, **params):
        super().__init__(dim, **params)
        if self.dim % int(self.params["m"]):
            raise ValueError(f"ivf_pq: m={self.params['m']} must divide the dimension {self.dim}")

    RERANK_FACTORS = (0, 4, 16)  # candidates re-scored exactly per result wanted (0: none)

    def tuning_grid(self) -> list[dict]:
        """nprobe steps, each also with re-ranking when exact vectors are at hand (PQ's codes
        alone cap recall@10 near 0.8 on CLIP-like vectors; re-scoring 4-16x candidates lifts it)."""
        factors = self.RERANK_FACTORS if self.exact_source is not None else (0,)
        return [{**setting, "rerank": r} if r else setting for setting in super().tuning_grid() for r in factors]

    def factory_string(self, nlist: int) -> str:
        m, nbits = int(self.params["m"]), int(self.params["nbits"])
        rotation = f"OPQ{m}," if self.params.get("opq") else ""
        return f"{rotation}{self.coarse(nlist)},PQ{m}x{nbits}np"  # np: skip polysemous training (slow, unused)

    def _configure(self, index: faiss.Index) -> None:
        pq = faiss.downcast_index(faiss.extract_index_ivf(index)).pq  # 10 k-means rounds on 128 points a centroid:
        pq.cp.niter, pq.cp.max_points_per_centroid = int(self.params["niter"]), 128  # 5x faster
        if self.params.get("opq"):
            # OPQ alternates PQ training and a rotation update: 10 rounds on 32k vectors get
            # most of the gain of FAISS's 50 rounds on 65k, in a fraction of the time
            opq = faiss.downcast_VectorTransform(faiss.downcast_index(index).chain.at(0))
            opq.niter, opq.niter_pq_0, opq.max_train_points = int(self.params["opq_niter"]), 10, 32_768


def pq_m_for(dim: int, bytes_per_vector: int = 64) -> int:
    """Sub-quantisers (bytes per code at 8 bits): at most ``bytes_per_vector`` and dim/4, dividing dim."""
    for m in range(min(bytes_per_vector, max(1, dim // 4)), 0, -1):
        if dim % m == 0:
            return m
    return 1
