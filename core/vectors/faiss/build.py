"""Building an index from a full set of vectors: train on a sample, add, tune for a recall target.

Tuning is measured, not guessed. Up to 500 of the vectors are held out: left out of the
training sample and added only after tuning (a query already in an HNSW graph walks straight to
its own neighbours, which overstates recall). Their exact top-k over the other vectors comes
from a full scan, and the cheapest search setting (``nprobe`` or ``efSearch``) whose recall@k
reaches the target is kept with the index. Where none reaches it (PQ's codes cap its recall),
the cheapest one within half a point of the best is kept and ``build_info["target_met"]`` says so.
"""
from __future__ import annotations

import logging
import time

import faiss
import numpy as np

from . import gpu
from ..arrays import normalize
from .base import ExactSource, VectorIndex
from .choose import build_params, choose_kind
from .factory import make_index
from .ivf import MIN_POINTS_PER_LIST

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 4 << 30
CHUNK = 100_000
LONG_BUILD = 1_000_000


def build_index(kind: str, ids, vectors: np.ndarray, *, recall_target: float = 0.95,
                sample: int | None = None, memory_budget_bytes: int = DEFAULT_BUDGET,
                queries: int = 500, k: int = 10, seed: int = 0, device: str = "cpu",
                params: dict | None = None, exact_source: ExactSource | None = None) -> VectorIndex:
    """An index of ``kind`` (or ``"auto"``) holding ``vectors`` under ``ids``, trained and tuned.

    ``sample``: training vectors (default: 40 per IVF bucket, at least the type's minimum).
    ``vectors`` may be a memory map; it is read in chunks and never copied whole.
    ``exact_source``: where a compressed index reads full vectors to re-rank at search time
    (``rows_source`` over a memory map, or the catalog); without one it does not re-rank.
    """
    ids = np.asarray(ids, dtype=np.int64).ravel()
    n, dim = vectors.shape
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} vectors")
    use_gpu = gpu.resolve(device) is not None
    if kind == "auto":
        kind = choose_kind(n, dim, memory_budget_bytes, use_gpu)
    index = make_index(kind, dim, **{**build_params(kind, n, dim, memory_budget_bytes), **(params or {})})
    if n >= LONG_BUILD:  # said even without -v: a silent 20-minute rebuild looks like a hang
        log.warning("building a %s index over %d vectors (train, add, tune): this takes minutes "
                    "(10M on 2 cores: ~20)", kind, n)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    trained_on, train_rows = 0, np.zeros(0, np.int64)
    if index.min_train:
        if n < index.min_train:
            raise ValueError(f"a {kind} index needs at least {index.min_train} vectors to train, got {n}")
        trained_on = int(min(n, max(index.min_train, sample or MIN_POINTS_PER_LIST * 1.03 * index.params["nlist"])))
        train_rows = np.sort(rng.choice(n, trained_on, replace=False))
        index.train(normalize(vectors[train_rows]), expected=n)
    trained = time.perf_counter()
    # Tuning queries are held out: left out of training, and added only after tuning, since a
    # query already in a graph finds its own neighbours far too easily.
    held = _held_out_rows(n, train_rows, queries, k, rng) if index.tuning_grid() else np.zeros(0, np.int64)
    keep = np.ones(n, bool)
    keep[held] = False
    for start in range(0, n, CHUNK):
        part = keep[start:start + CHUNK]
        index.add(ids[start:start + CHUNK][part], vectors[start:start + CHUNK][part])
        if (start // CHUNK) % 10 == 9 or start + CHUNK >= n:
            log.info("%s index: added %d of %d vectors", kind, min(n, start + CHUNK), n)
    added = time.perf_counter()
    # tuning re-ranks (if the index will) straight from the build's vectors: the same values, faster
    index.exact_source = None if exact_source is None else rows_source(ids, vectors)
    tuning = tune(index, ids, vectors, held, recall_target, k)
    index.exact_source = exact_source
    index.add(ids[held], vectors[held])
    index.build_info = {
        "built_at": time.time(),
        "vectors": n,
        "trained_on": trained_on,
        "train_seconds": round(trained - started, 3),
        "add_seconds": round(added - trained, 3),
        "tune_seconds": round(time.perf_counter() - added, 3),
        "build_seconds": round(time.perf_counter() - started, 3),
        **tuning,
    }
    index.to_device(device)
    return index


def rows_source(ids: np.ndarray, vectors: np.ndarray):
    """An exact-vector source over ``vectors`` (an array or memory map) addressed by ``ids``."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]

    def fetch(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = np.asarray(wanted, np.int64)
        at = np.minimum(np.searchsorted(sorted_ids, wanted), max(0, len(sorted_ids) - 1))
        hit = sorted_ids[at] == wanted if len(sorted_ids) else np.zeros(len(wanted), bool)
        rows = order[at[hit]]
        sorted_rows = np.argsort(rows)  # a memory map reads fastest in file order
        out = np.empty((len(rows), vectors.shape[1]), np.float32)
        out[sorted_rows] = vectors[rows[sorted_rows]]
        return wanted[hit], out

    return fetch


def _held_out_rows(n: int, train_rows: np.ndarray, queries: int, k: int, rng) -> np.ndarray:
    """Rows to tune on: not trained on where possible, and never so many that few remain."""
    count = min(queries, max(0, (n - k - 1) // 10))
    pool = np.setdiff1d(np.arange(n), train_rows) if n - len(train_rows) >= count else np.arange(n)
    return np.sort(rng.choice(pool, count, replace=False)) if count else np.zeros(0, np.int64)


def tune(index: VectorIndex, ids: np.ndarray, vectors: np.ndarray, held: np.ndarray,
         recall_target: float, k: int) -> dict:
    """Pick the cheapest search setting of ``index`` that reaches ``recall_target`` at ``k``.

    ``held`` are the rows of ``vectors`` not (yet) in ``index``: the queries. Their exact top-k
    is taken over the indexed rows only.
    """
    grid = index.tuning_grid()
    if not grid or len(held) == 0:
        return {"recall_target": recall_target, "recall": 1.0, "target_met": True}
    q = normalize(vectors[held])
    _, truth = exact_search(q, ids, vectors, k + len(held))
    held_ids = set(ids[held].tolist())
    truth = np.array([[i for i in row if i not in held_ids][:k] for row in truth])
    tried = []
    for setting in grid:
        index.search_params = dict(setting)
        got = index.search(q, k)[1]
        recall = recall_at_k(got, truth, k)
        tried.append((setting, round(recall, 4)))
        if recall >= recall_target:
            break
    best = max(r for _, r in tried)
    if best >= recall_target:
        chosen = next(s for s, r in tried if r >= recall_target)
    else:
        chosen = next(s for s, r in tried if r >= best - 0.005)
        log.warning("%s index reaches recall@%d %.3f at most (target %.3f); using %s",
                    index.kind, k, best, recall_target, chosen)
    index.search_params = dict(chosen)
    return {
        "recall_target": recall_target,
        "recall": _recall_of(tried, chosen),
        "target_met": best >= recall_target,
        "tuning_queries": len(held),
        "tried": [[s, r] for s, r in tried],
    }


def _recall_of(tried, chosen) -> float:
    return next(r for s, r in tried if s == chosen)


def exact_search(queries: np.ndarray, ids: np.ndarray, vectors: np.ndarray, k: int,
                 chunk: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` (scores, ids) of normalised ``queries`` over ``vectors``, chunk by chunk."""
    best_s = np.full((len(queries), 0), -np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    for start in range(0, len(ids), chunk):
        part = normalize(vectors[start:start + chunk])
        scores, pos = faiss.knn(queries, part, min(k, len(part)), metric=faiss.METRIC_INNER_PRODUCT)
        best_s = np.concatenate([best_s, scores], axis=1)
        best_i = np.concatenate([best_i, ids[start:start + chunk][pos]], axis=1)
        order = np.argsort(-best_s, axis=1, kind="stable")[:, :k]
        best_s = np.take_along_axis(best_s, order, axis=1)
        best_i = np.take_along_axis(best_i, order, axis=1)
    return best_s, best_i


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int, exclude=None) -> float:
    """Mean share of each row's true top-``k`` found in its top-``k`` (``exclude[row]`` ignored)."""
    total = 0.0
    for row in range(len(truth)):
        skip = None if exclude is None else exclude[row]
        want = [i for i in truth[row] if i != skip and i >= 0][:k]
        have = [i for i in found[row] if i != skip and i >= 0][:k]
        total += len(set(want) & set(have)) / max(1, len(want))
    return total / max(1, len(truth))
