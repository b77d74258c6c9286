"""Which index type a space should use, from its size and a memory budget.

The rules follow autofaiss's reasoning, with thresholds measured on a 2-core machine
(``bench/ann.py``):

* exact (flat) while one full scan stays around a couple of milliseconds (32 MB of vectors);
* HNSW next, while it fits the budget and its build (the slowest of the four) stays in minutes;
  not on a GPU, where FAISS has no HNSW;
* IVF-Flat while the full vectors fit the budget;
* IVF-PQ (with OPQ) beyond, with the code size chosen to fit the budget.

``rebuild_reason`` tells the Library when an index should be rebuilt from the catalog: the type
asks for it (tombstones, outgrown training), or the rule now picks another type, with a margin
so an index near a threshold does not flip back and forth.
"""
from __future__ import annotations

from .base import VectorIndex
from .factory import KINDS, index_class
from .ivf import IVFPQIndex, nlist_for, pq_m_for

FLAT_MAX_BYTES = 32 << 20
HNSW_MAX_VECTORS = 2_000_000
HYSTERESIS = 1.5  # the rule's choice must hold from n/1.5 to n*1.5 before an index changes type


def bytes_per_vector(kind: str, dim: int, params: dict | None = None) -> float:
    """Memory a vector costs in an index of ``kind`` (payload, ids and links; not fixed costs)."""
    params = {**index_class(kind).default_params(dim), **(params or {})}
    if kind == "flat":
        return 4 * dim + 8
    if kind == "hnsw":
        m = int(params["M"])
        return 4 * dim + 8 + 8 * m + m * 4 / 2 + 16  # level-0 links (2M), upper levels, ids, levels
    if kind == "ivf_flat":
        return 4 * dim + 8
    if kind == "ivf_pq":
        return int(params["m"]) * int(params["nbits"]) / 8 + 8
    raise ValueError(f"unknown vector index kind {kind!r}; known: {', '.join(KINDS)}")


def choose_kind(n: int, dim: int, memory_budget_bytes: int, gpu: bool = False) -> str:
    """The index type for ``n`` vectors of ``dim`` dimensions within ``memory_budget_bytes``."""
    def fits(kind: str) -> bool:
        return n * bytes_per_vector(kind, dim) <= memory_budget_bytes

    if n * dim * 4 <= FLAT_MAX_BYTES and fits("flat"):
        return "flat"
    if n < IVFPQIndex.min_train:  # too few to train PQ: exact is still cheap at this size
        return "flat" if fits("flat") or not fits("hnsw") else "hnsw"
    if not gpu and n <= HNSW_MAX_VECTORS and fits("hnsw"):
        return "hnsw"
    if fits("ivf_flat"):
        return "ivf_flat"
    return "ivf_pq"


def build_params(kind: str, n: int, dim: int, memory_budget_bytes: int | None = None) -> dict:
    """Build parameters of ``kind`` sized for ``n`` vectors (and the budget, for PQ's code size)."""
    if kind in ("ivf_flat", "ivf_pq"):
        params = {"nlist": nlist_for(n), "trained_for": n}
        if kind == "ivf_pq":
            code = 64
            if memory_budget_bytes:
                code = max(1, min(code, int(memory_budget_bytes / max(n, 1)) - 8))
            params["m"] = pq_m_for(dim, code)
        return params
    return {}


def target_kind(setting: str, n: int, dim: int, memory_budget_bytes: int, gpu: bool = False) -> str:
    """The kind to build now: the setting (``auto`` or a kind), exact while too small to train."""
    if setting == "auto":
        return choose_kind(n, dim, memory_budget_bytes, gpu)
    cls = index_class(setting)
    return setting if n >= cls.min_train else "flat"


def rebuild_reason(index: VectorIndex, setting: str, memory_budget_bytes: int, gpu: bool = False) -> str | None:
    """Why ``index`` should be rebuilt now (from the catalog), or None."""
    reason = index.needs_rebuild()
    if reason:
        return reason
    n = len(index)
    if setting != "auto":
        wanted = target_kind(setting, n, index.dim, memory_budget_bytes, gpu)
        return None if wanted == index.kind else f"the setting asks for {wanted}, the index is {index.kind}"
    around = {choose_kind(int(x), index.dim, memory_budget_bytes, gpu)
              for x in (n / HYSTERESIS, n, n * HYSTERESIS)}
    if index.kind in around:
        return None
    wanted = choose_kind(n, index.dim, memory_budget_bytes, gpu)
    return f"{n} vectors are better served by {wanted} than {index.kind}"


__all__ = ["choose_kind", "build_params", "target_kind", "rebuild_reason", "bytes_per_vector",
           "FLAT_MAX_BYTES", "HNSW_MAX_VECTORS"]
