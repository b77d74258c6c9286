"""Load on the running search server: 32 concurrent clients, text search, latency percentiles.

    python -m bench.serve_load [--segments 100000] [--clients 32] [--seconds 20] [--mode hybrid]

1. Builds (once; reused) a data dir with ``--segments`` segments whose vectors are synthetic
   (random unit vectors, in the dimensions of CLIP ViT-B-32 and MiniLM) and whose transcripts are
   random words; rows go into the catalog in bulk, and the library builds the FAISS indexes.
2. Starts ``vidsearch serve`` on it in a separate process (the real ViT-B-32 architecture, with
   untrained weights saved as a local checkpoint: speed does not depend on the values).
3. Drives it with ``--clients`` keep-alive connections for ``--seconds`` per scenario, from a
   minimal asyncio HTTP client (cheap, so the load generator steals little of the CPU):
   * ``unique``: every request a new query, so every one is encoded;
   * ``repeated``: queries drawn (Zipf-like) from a pool of 200, as people repeat searches.
Prints requests/s and p50/p95/p99 end-to-end latency, and the query-encoding time the server
reports (``timings.encode_ms``, for the requests that were encoded) separately.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

WORDS = ("budget school rain storm coast dog frisbee park city council vote tax river bridge train "
         "night market music guitar crowd goal referee snow mountain forest fire truck doctor "
         "patient kitchen recipe bread garden flower bee ocean boat harbour lecture physics energy "
         "election debate speech camera street traffic bicycle child game cat window winter summer").split()


def _rng_text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def build(data_dir: Path, segments: int, checkpoint: Path) -> None:
    """A catalog with ``segments`` synthetic segments in 100-segment videos, then its indexes."""
    from sqlalchemy import insert, select

    from search.catalog import ModelVersion, Segment, SegmentVector, Video, open_catalog
    from search.library import Library
    from search.settings import Settings

    sessions = open_catalog(f"sqlite:///{data_dir / 'catalog.db'}")
    with sessions() as session:
        have = session.scalar(select(Segment.id).order_by(Segment.id.desc()).limit(1)) or 0
    if have >= segments:
        return
    print(f"building {segments} synthetic segments in {data_dir} (once)...", file=sys.stderr)
    rng, vec_rng = random.Random(0), np.random.default_rng(0)
    clip_id = f"open_clip:ViT-B-32:{checkpoint.name}:{checkpoint.stat().st_size}"
    per_video = 100
    with sessions.begin() as session:
        session.execute(insert(ModelVersion), [
            {"space": "fused", "model": clip_id, "dim": 512}, {"space": "visual", "model": clip_id, "dim": 512},
            {"space": "speech", "model": "sentence-transformers:all-MiniLM-L6-v2", "dim": 384}])
    seg_id = 0
    for video_no in range(segments // per_video):
        with sessions.begin() as session:
            video_id = session.execute(insert(Video).values(
                path=f"/archive/synthetic/video_{video_no:05d}.mp4", size=1, mtime=0.0, status="indexed",
                duration=per_video * 5.0, has_audio=True)).inserted_primary_key[0]
            rows, vectors = [], []
            for ordinal in range(per_video):
                seg_id += 1
                rows.append({"id": seg_id, "video_id": video_id, "ordinal": ordinal, "start": ordinal * 5.0,
                             "end": ordinal * 5.0 + 5.0, "transcript": _rng_text(rng, 12), "frame_count": 4})
            session.execute(insert(Segment), rows)
            for space, dim in (("fused", 512), ("visual", 512), ("speech", 384)):
                block = vec_rng.standard_normal((per_video, dim)).astype(np.float32)
                block /= np.linalg.norm(block, axis=1, keepdims=True)
                vectors += [{"segment_id": r["id"], "space": space, "vector": v.tobytes()}
                            for r, v in zip(rows, block)]
            session.execute(insert(SegmentVector), vectors)
    Library(Settings(data_dir=data_dir))  # reconciles: builds and saves the three FAISS indexes


def serve(data_dir: Path, checkpoint: Path, port: int, threads: int) -> None:
    """The server process: ``vidsearch serve`` on the bench data dir."""
    from types import SimpleNamespace

    from api.serve import cmd_serve
    from search.settings import Settings

    settings = Settings(data_dir=data_dir, clip_model="ViT-B-32", clip_pretrained=str(checkpoint),
                        server_threads=threads)
    sys.exit(cmd_serve(SimpleNamespace(settings=settings), SimpleNamespace(host="127.0.0.1", port=port)))


async def _client(port: int, queries, stop_at: float, mode: str, out: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            q = next(queries)
            path = f"/api/search?{urllib.parse.urlencode({'q': q, 'mode': mode, 'k': 10})}"
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            body = await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            status = int(head.split(b" ", 2)[1])
            timings = json.loads(body)["timings"] if status == 200 else {}
            out.append((elapsed, status, timings.get("encode_ms"), timings.get("cached")))
    finally:
        writer.close()


async def _drive(port: int, clients: int, seconds: float, mode: str, queries) -> tuple[list, float]:
    out: list = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, queries, started + seconds, mode, out) for _ in range(clients)))
    return out, time.perf_counter() - started


def _pct(values, p) -> float:
    return float(np.percentile(values, p)) if len(values) else float("nan")


def _wait_ready(port: int, process, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server process exited; see its output above")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                if b"200 OK" in conn.recv(200):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not become ready")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "fused", "visual", "speech"))
    parser.add_argument("--threads", type=int, default=4, help="server worker threads")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "vidsearch-bench-serve")
    parser.add_argument("--serve", nargs=2, metavar=("CHECKPOINT", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = args.data_dir / f"{args.segments}"
    if args.serve:
        return serve(data_dir, Path(args.serve[0]), int(args.serve[1]), args.threads)

    import open_clip
    import torch

    data_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = args.data_dir / "vit-b-32-untrained.pt"
    if not checkpoint.exists():
        torch.manual_seed(0)
        torch.save({"state_dict": open_clip.create_model("ViT-B-32").state_dict()}, checkpoint)
    build(data_dir, args.segments, checkpoint)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "bench.serve_load", "--segments", str(args.segments),
                               "--data-dir", str(args.data_dir), "--threads", str(args.threads),
                               "--serve", str(checkpoint), str(port)],
                              cwd=Path(__file__).resolve().parents[1], env={**os.environ})
    try:
        _wait_ready(port, server)
        rng = random.Random(1)
        pool = [_rng_text(rng, rng.randint(3, 8)) for _ in range(200)]
        weights = [1 / (i + 1) for i in range(len(pool))]
        unique = (f"{_rng_text(rng, rng.randint(3, 7))} {i}" for i in range(10**9))
        repeated = iter(lambda: rng.choices(pool, weights)[0], None)
        asyncio.run(_drive(port, 4, 3.0, args.mode, unique))  # warm-up: models, allocator, caches
        rows = []
        for name, queries in (("unique queries", unique), ("repeated (pool 200)", repeated)):
            results, wall = asyncio.run(_drive(port, args.clients, args.seconds, args.mode, queries))
            ok = [r for r in results if r[1] == 200]
            latency = [r[0] * 1000 for r in ok]
            encode = [r[2] for r in ok if r[3] is False]
            rows.append((name, len(results) / wall, len(results) - len(ok), _pct(latency, 50), _pct(latency, 95),
                         _pct(latency, 99), len(encode), _pct(encode, 50), _pct(encode, 95)))
    finally:
        server.terminate()
        server.wait(30)
    print(f"text search over {args.segments} segments, mode {args.mode}, {args.clients} clients x "
          f"{args.seconds:.0f} s; server: {args.threads} threads, torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs, load avg before: {os.getloadavg()[0]:.1f}")
    print(f"{'scenario':<21} {'req/s':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'encoded':>8} {'enc p50':>8} {'enc p95':>8}")
    for name, rps, errors, p50, p95, p99, n_enc, e50, e95 in rows:
        print(f"{name:<21} {rps:7.1f} {errors:6d} {p50:7.1f} {p95:7.1f} {p99:7.1f} {n_enc:8d} {e50:8.1f} {e95:8.1f}")


if __name__ == "__main__":
    main()
