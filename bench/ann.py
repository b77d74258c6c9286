"""Vector index types at archive scale: build time, bytes per vector, latency and recall.

    python -m bench.ann [--sizes 100k,1M,10M] [--dim 512]
                        [--kinds flat,hnsw,ivf_flat,ivf_pq,ivf_pq+rerank] [--queries 300]
                        [--recall-target 0.95] [--max-build-minutes 15] [--memory-gb 8]
                        [--work-dir DIR] [--device cpu] [--backend faiss|milvus|both]

Per size and index type: ``build_index`` (train on a sample, add, tune nprobe/efSearch to the
recall target on in-set queries), then on *held-out* queries: single-query p50/p99 latency and
recall@10 against exact search; bytes per vector is the saved file's size over the count.
``ivf_pq+rerank`` is IVF-PQ whose candidates are re-scored with exact vectors read from the raw
vector file (as the product reads them from its catalog): memory stays at the codes' size.
The raw vectors are a memory-mapped file in ``--work-dir``, so sizes beyond memory (10M x 512
floats = 20 GiB) stream through build and ground truth instead of being held.

``--backend milvus`` measures the Milvus collection vidsearch would use at each size (the index
type the size rule picks, in Milvus' names) on milvus-lite in the work dir: build is insert plus
index, bytes per vector is the lite file on disk, latency is one client call per query.

Data: synthetic, CLIP-like rather than uniform noise (on which no ANN index works, and which no
encoder produces): 4,096 cluster centres (scenes), each vector a centre plus a Gaussian offset
in a shared 24-dimensional subspace (half the centre's norm) plus 5% full-rank noise,
L2-normalised; a query's nearest neighbour is at cosine ~0.88, its 10th at ~0.81, a random
vector at ~0. ``--clusters/--rank/--spread/--noise`` change it: more clusters, a higher rank or
a wider spread make neighbours less distinct and every approximate index slower at a recall.
Queries come from the same distribution and are not in the index.

Each row runs in a fresh process that maps the raw vectors read-only; its ``memory MB`` is the
peak anonymous memory (PSS) of that process above its start, sampled while it builds and
answers: what the store itself holds in RAM (milvus-lite runs inside the process), not the
pages of the raw vector file it reads. Types whose build would exceed the time or memory
limits are skipped with the reason printed (HNSW's build time is extrapolated from the smaller
size); from 5M on only the IVF-PQ rows run.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import gc
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.peak_memory import PeakMemory, tree_rss
from core.vectors import normalize
from core.vectors.faiss import build_index, bytes_per_vector, exact_search, recall_at_k, rows_source

CHUNK = 100_000


def synthetic(n: int, dim: int, seed: int, clusters: int = 4096, rank: int = 24,
              spread: float = 0.5, noise: float = 0.05, out: np.ndarray | None = None) -> np.ndarray:
    """``n`` clustered, low-intrinsic-dimension unit vectors (see the module docstring), written
    into ``out`` (e.g. a memory map, for sizes that do not fit in memory) when given."""
    shared = np.random.default_rng(12345)  # centres and subspace are the same for every call
    basis = np.linalg.qr(shared.standard_normal((dim, rank)))[0].T.astype(np.float32)
    centres = shared.standard_normal((clusters, dim), dtype=np.float32)
    out = np.empty((n, dim), np.float32) if out is None else out
    for start in range(0, n, CHUNK):
        rng = np.random.default_rng([seed, start])
        m = min(CHUNK, n - start)
        x = centres[rng.integers(0, clusters, m)]
        x += (spread * np.sqrt(dim / rank)) * rng.standard_normal((m, rank), dtype=np.float32) @ basis
        x += noise * rng.standard_normal((m, dim), dtype=np.float32)
        out[start:start + m] = normalize(x)
    return out


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def latency_ms(index, queries: np.ndarray) -> tuple[float, float]:
    for q in queries[:20]:  # warm caches and lazy state
        index.search(q, 10)
    times = []
    for q in queries:
        start = time.perf_counter()
        index.search(q, 10)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def run_one(name, ids, base, queries, truth, args, out_dir) -> dict:
    kind, _, rerank = name.partition("+")
    index = build_index(kind, ids, base, recall_target=args.recall_target,
                        memory_budget_bytes=int(args.memory_gb * (1 << 30)), device=args.device,
                        exact_source=rows_source(ids, base) if rerank else None)
    path = out_dir / f"{kind}.faiss"
    index.save(path)
    size = path.stat().st_size
    path.unlink()
    for extra in out_dir.glob(f"{kind}.faiss*"):
        extra.unlink()
    p50, p99 = latency_ms(index, queries)
    found = index.search(queries, 10)[1]
    row = {
        "kind": name, "build_s": index.build_info["build_seconds"],
        "bytes_per_vector": size / len(index), "p50_ms": p50, "p99_ms": p99,
        "recall": recall_at_k(found, truth, 10), "params": {**index.params, **index.search_params},
    }
    del index
    gc.collect()
    return row


def run_milvus(ids, base, queries, truth, args, out_dir) -> dict:
    """The Milvus collection of one space at this size, on milvus-lite (see the module docstring)."""
    from core.vectors.milvus.index import WRITE_BATCH, MilvusIndex, connect, index_params, search_params

    path = out_dir / "milvus.db"
    index_type, build = index_params(len(ids), args.dim, int(args.memory_gb * (1 << 30)))
    started = time.perf_counter()
    index = MilvusIndex(connect(str(path)), "bench", args.dim).create(index_type, build)
    for at in range(0, len(ids), WRITE_BATCH * 4):
        part = slice(at, at + WRITE_BATCH * 4)
        index.add(ids[part], np.asarray(base[part]), np.zeros(len(ids[part]), np.int64))
    index.client.flush(index.name)
    built = time.perf_counter() - started
    p50, p99 = latency_ms(index, queries)
    found = index.search(queries, 10)[1]
    disk = sum(f.stat().st_size for f in path.parent.rglob("*") if f.is_file())
    index.client.close()
    return {"kind": f"milvus:{index_type}", "build_s": built, "bytes_per_vector": disk / len(ids),
            "p50_ms": p50, "p99_ms": p99, "recall": recall_at_k(found, truth, 10),
            "params": {**build, **search_params(index_type, build, 10)}}


def measured_row(kind: str, base_path: Path, queries, truth, args, out_dir: Path) -> dict:
    """One row, in a process of its own (see the module docstring), with its memory."""
    base = np.load(base_path, mmap_mode="r")
    ids = np.arange(1, len(base) + 1, dtype=np.int64)
    start = tree_rss(os.getpid(), "Pss_Anon")
    with PeakMemory(field="Pss_Anon") as peak:
        if kind == "milvus":
            row = run_milvus(ids, base, queries, truth, args, out_dir)
        else:
            row = run_one(kind, ids, base, queries, truth, args, out_dir)
    return {**row, "memory_mb": max(0, peak.bytes - start) / 2**20}


def _line(size: int, row: dict) -> str:
    """One row of the table (see the header in ``main``)."""
    return (f"{size:>9,} {row['kind']:<13} {row['build_s']:>8.1f} {row['bytes_per_vector']:>9.0f} "
            f"{row['memory_mb']:>9.0f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['recall']:>9.3f}  "
            f"{row['params']}")


def _in_child(kind: str, tmp: Path, queries, truth, args) -> dict:
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measured_row, kind, tmp / "base.npy", queries, truth, args, tmp).result()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--kinds", default="flat,hnsw,ivf_flat,ivf_pq,ivf_pq+rerank")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--recall-target", type=float, default=0.95)
    parser.add_argument("--max-build-minutes", type=float, default=15.0)
    parser.add_argument("--memory-gb", type=float, default=8.0, help="budget for one index in memory")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the raw vectors are written (a memory map; default: a temp dir)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="faiss", choices=("faiss", "milvus", "both"),
                        help="FAISS index types, the Milvus collection (milvus-lite), or both")
    parser.add_argument("--clusters", type=int, default=4096)
    parser.add_argument("--rank", type=int, default=24)
    parser.add_argument("--spread", type=float, default=0.5)
    parser.add_argument("--noise", type=float, default=0.05)
    args = parser.parse_args(argv)
    data = dict(clusters=args.clusters, rank=args.rank, spread=args.spread, noise=args.noise)
    kinds = args.kinds.split(",") if args.backend != "milvus" else []
    if args.backend != "faiss":
        kinds.append("milvus")
    print(f"# {platform.machine()}, {faiss.omp_get_max_threads()} FAISS threads, faiss {faiss.__version__}, "
          f"dim {args.dim}, recall target {args.recall_target}, {args.queries} held-out queries, data {data}")
    header = (f"{'size':>9} {'kind':<13} {'build s':>8} {'B/vector':>9} {'memory MB':>9} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'recall@10':>9}  params")
    rows, skipped, seconds_per_vector = [header], [], {}
    budget = args.memory_gb * (1 << 30)
    for size in [parse_size(s) for s in args.sizes.split(",")]:
        raw = size * args.dim * 4
        wanted = [k for k in kinds if size < 5_000_000 or k.startswith(("ivf_pq", "milvus"))]
        skipped += [f"{size:,} {k}: only IVF-PQ runs at this size" for k in kinds if k not in wanted]
        with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
            if shutil.disk_usage(tmp).free < raw * 1.1:
                skipped += [f"{size:,} {k}: the {raw / 2**30:.1f} GiB of raw vectors do not fit on the disk "
                            f"of {tmp}" for k in wanted]
                continue
            started = time.perf_counter()
            base = np.lib.format.open_memmap(Path(tmp) / "base.npy", "w+", np.float32, (size, args.dim))
            synthetic(size, args.dim, seed=1, out=base, **data)
            ids = np.arange(1, size + 1, dtype=np.int64)
            queries = synthetic(args.queries, args.dim, seed=2, **data)
            truth = exact_search(queries, ids, base, 10)[1]
            print(f"# {size:,} vectors generated with exact ground truth in {time.perf_counter() - started:.0f} s",
                  flush=True)
            base.flush()
            for kind in wanted:
                if kind == "milvus":
                    rows.append(_line(size, _in_child(kind, Path(tmp), queries, truth, args)))
                    print(rows[-1], flush=True)
                    continue
                need = size * bytes_per_vector(kind.partition("+")[0], args.dim)
                if need > budget:
                    skipped.append(f"{size:,} {kind}: needs ~{need / 2**30:.1f} GiB > --memory-gb")
                    continue
                if kind in seconds_per_vector:  # HNSW inserts cost ~log n each: extrapolate
                    estimate = seconds_per_vector[kind] * size * np.log(size) / 60
                    if estimate > args.max_build_minutes:
                        skipped.append(f"{size:,} {kind}: build estimated at {estimate:.0f} min "
                                       f"> --max-build-minutes {args.max_build_minutes:g}")
                        continue
                row = _in_child(kind, Path(tmp), queries, truth, args)
                if kind == "hnsw":  # IVF's cost is mostly training on a bounded sample
                    seconds_per_vector[kind] = row["build_s"] / (size * np.log(size))
                rows.append(_line(size, row))
                print(rows[-1], flush=True)
            del base
            gc.collect()
    print()
    print("\n".join(rows))
    if any("+rerank" in k for k in kinds):
        print("+rerank: candidates re-scored with exact vectors read from a file on disk (the product reads "
              "them from the catalog); B/vector counts only the index in memory")
    for line in skipped:
        print(f"skipped {line}")


if __name__ == "__main__":
    main()
