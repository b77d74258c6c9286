"""Load on the running search server: 32 concurrent clients, text search, latency percentiles.

    python -m bench.serve_load [--segments 100000] [--clients 32] [--seconds 20] [--mode hybrid]
                               [--backend faiss|milvus]

1. Builds (once; reused) a data dir with ``--segments`` segments whose vectors are synthetic and
   clustered like real embeddings (``bench.ann.synthetic``, in the dimensions of CLIP ViT-B-32
   and MiniLM) and whose transcripts have speech's word statistics (``Speech``); rows go into the
   catalog in bulk, and the library builds the FAISS indexes.
2. Starts ``vidsearch serve`` on it in a separate process (the real ViT-B-32 architecture, with
   untrained weights saved as a local checkpoint: speed does not depend on the values).
3. Drives it with ``--clients`` keep-alive connections for ``--seconds`` per scenario, from a
   minimal asyncio HTTP client (cheap, so the load generator steals little of the CPU):
   * ``1 client, unique``: one user at a time, every query new: the latency of a quiet server,
     and the encoding time of one query (with ``fused``: the CLIP text tower alone);
   * ``N clients, unique``: every request a new query, so every one is encoded;
   * ``N clients, repeated``: queries drawn (Zipf-like) from a pool of 200, as people repeat
     searches, in the steady state where each has been asked once before (warmed first);
   * ``N clients, 10% new``: nine in ten queries from that pool, one in ten new.
With ``--backend milvus`` the server searches Milvus collections (milvus-lite in the data dir,
built from the same catalog) instead of FAISS files.
Prints requests/s and p50/p95/p99 end-to-end latency, and the query-encoding time the server
reports (``timings.encode_ms``, for the requests that were encoded) separately.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
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

from core.models.packaged_sentence import MINILM, MPNET
from core.models.sentence import SENTENCE_PREFIX

WORDS = ("budget school rain storm coast dog frisbee park city council vote tax river bridge train "
         "night market music guitar crowd goal referee snow mountain forest fire truck doctor "
         "patient kitchen recipe bread garden flower bee ocean boat harbour lecture physics energy "
         "election debate speech camera street traffic bicycle child game cat window winter summer").split()
STOP = "the a and to of in is that it you we was for on this with be are have so but not they at".split()


class Speech:
    """Transcript-like word streams: 40% stop words, the rest Zipf-distributed over a vocabulary of
    ~3,000 real words (``WORDS`` at its head, then whole-word tokens of CLIP's tokenizer in merge
    order, which follows frequency), so a few words are in half the segments and most in few, and
    a word costs the text towers one token, as in real speech; queries draw from the same words."""

    def __init__(self, seed: int, vocabulary: int = 3000):
        from open_clip.tokenizer import SimpleTokenizer

        self.rng = random.Random(seed)
        known = set(WORDS) | set(STOP)
        tokens = [t[:-4] for t in SimpleTokenizer().encoder if t.endswith("</w>")]
        real = [w for w in tokens[2000:] if len(w) >= 4 and w.isascii() and w.isalpha() and w not in known]
        self.content = WORDS + list(dict.fromkeys(real))[:vocabulary - len(WORDS)]
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(self.content))))

    def words(self, n: int) -> str:
        out = []
        for _ in range(n):
            out.append(self.rng.choice(STOP) if self.rng.random() < 0.4 else
                       self.rng.choices(self.content, cum_weights=self.cumulative)[0])
        return " ".join(out)


MINILM_SPEECH = (SENTENCE_PREFIX + MINILM, 384)  # (model id, dim) of a library's speech vectors
MPNET_SPEECH = (SENTENCE_PREFIX + MPNET, 768)


def build(data_dir: Path, segments: int, checkpoint: Path | None, faiss_indexes: bool = True,
          speech_model: tuple[str, int] = MINILM_SPEECH) -> None:
    """A catalog with ``segments`` synthetic segments in 100-segment videos, then (unless
    ``faiss_indexes`` is false: a Milvus run builds its collections instead) its FAISS indexes;
    without a CLIP ``checkpoint``, speech vectors only (as a library indexed without CLIP).
    ``speech_model``: the (model id, dim) its speech vectors claim, which queries then encode with."""
    from sqlalchemy import insert, select

    from core.catalog import ModelVersion, Segment, SegmentVector, Video, open_catalog
    from core.library import Library
    from core.settings import Settings

    sessions = open_catalog(f"sqlite:///{data_dir / 'catalog.db'}")
    with sessions() as session:
        have = session.scalar(select(Segment.id).order_by(Segment.id.desc()).limit(1)) or 0
    if have >= segments:
        return
    print(f"building {segments} synthetic segments in {data_dir} (once)...", file=sys.stderr)
    from bench.ann import synthetic

    speech = Speech(0)
    spaces = {"speech": synthetic(segments, speech_model[1], 3)}
    models = [{"space": "speech", "model": speech_model[0], "dim": speech_model[1]}]
    if checkpoint is not None:
        spaces.update(fused=synthetic(segments, 512, 1), visual=synthetic(segments, 512, 2))
        clip_id = f"open_clip:ViT-B-32:{checkpoint.name}:{checkpoint.stat().st_size}"
        models += [{"space": "fused", "model": clip_id, "dim": 512}, {"space": "visual", "model": clip_id, "dim": 512}]
    per_video = 100
    with sessions.begin() as session:
        session.execute(insert(ModelVersion), models)
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
                             "end": ordinal * 5.0 + 5.0, "transcript": speech.words(12), "frame_count": 4})
            session.execute(insert(Segment), rows)
            for space, block in spaces.items():
                block = block[seg_id - per_video:seg_id]
                vectors += [{"segment_id": r["id"], "space": space, "vector": v.tobytes()}
                            for r, v in zip(rows, block)]
            session.execute(insert(SegmentVector), vectors)
    if faiss_indexes:
        Library(Settings(data_dir=data_dir))  # reconciles: builds and saves the three FAISS indexes


def serve(data_dir: Path, checkpoint: Path, port: int, threads: int, backend: str = "faiss") -> None:
    """The server process: ``vidsearch serve`` on the bench data dir."""
    from types import SimpleNamespace

    from api.serve import cmd_serve
    from core.settings import Settings

    settings = Settings(data_dir=data_dir, clip_model="ViT-B-32", clip_pretrained=str(checkpoint),
                        server_threads=threads, vector_backend=backend)
    sys.exit(cmd_serve(SimpleNamespace(settings=settings), SimpleNamespace(host="127.0.0.1", port=port)))


async def _client(port: int, queries, stop_at: float, mode: str, out: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            q = next(queries, None)
            if q is None:
                break
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


async def _drive(port: int, clients: int, seconds: float, mode: str, queries,
                 until_exhausted: bool = False) -> tuple[list, float]:
    out: list = []
    started = time.perf_counter()
    stop_at = float("inf") if until_exhausted else started + seconds
    await asyncio.gather(*(_client(port, queries, stop_at, mode, out) for _ in range(clients)))
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
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "vidsearch-bench-serve")
    parser.add_argument("--backend", default="faiss", choices=("faiss", "milvus"), help="vector store to serve from")
    parser.add_argument("--serve", nargs=2, metavar=("CHECKPOINT", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = args.data_dir / f"{args.segments}-v3"  # v3: clustered vectors, speech-like real words
    if args.serve:
        return serve(data_dir, Path(args.serve[0]), int(args.serve[1]), args.threads, args.backend)

    import open_clip
    import torch

    data_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = args.data_dir / "vit-b-32-untrained.pt"
    if not checkpoint.exists():
        torch.manual_seed(0)
        torch.save({"state_dict": open_clip.create_model("ViT-B-32").state_dict()}, checkpoint)
    build(data_dir, args.segments, checkpoint, faiss_indexes=args.backend == "faiss")
    if args.backend == "milvus":  # the collections, from the catalog, in a process of their own: the
        # server must be the only process on the milvus-lite file (then it opens in step)
        subprocess.run([sys.executable, "-c", "import sys; from core.library import Library; "
                        "from core.settings import Settings; "
                        "Library(Settings(data_dir=sys.argv[1], vector_backend='milvus'))", str(data_dir)],
                       check=True, cwd=Path(__file__).resolve().parents[1])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "bench.serve_load", "--segments", str(args.segments),
                               "--data-dir", str(args.data_dir), "--threads", str(args.threads),
                               "--backend", args.backend,
                               "--serve", str(checkpoint), str(port)],
                              cwd=Path(__file__).resolve().parents[1], env={**os.environ})
    try:
        _wait_ready(port, server)
        rng, speech = random.Random(1), Speech(1)
        pool = [speech.words(rng.randint(3, 8)) for _ in range(200)]
        weights = [1 / (i + 1) for i in range(len(pool))]
        unique = (f"{speech.words(rng.randint(3, 7))} {i}" for i in range(10**9))
        repeated = iter(lambda: rng.choices(pool, weights)[0], None)
        # A query log's usual shape: mostly popular queries, one in ten never seen before.
        mixed = iter(lambda: next(unique) if rng.random() < 0.1 else rng.choices(pool, weights)[0], None)
        asyncio.run(_drive(port, 4, 3.0, args.mode, unique))  # warm-up: models, allocator, caches
        rows = []
        scenarios = [("1 client, unique", 1, unique, args.mode),
                     (f"{args.clients} clients, unique", args.clients, unique, args.mode),
                     (f"{args.clients} clients, 10% new", args.clients, mixed, args.mode),
                     (f"{args.clients} clients, repeated", args.clients, repeated, args.mode)]
        if args.mode == "hybrid":  # the CLIP text tower alone, as the target is stated
            scenarios.insert(1, ("1 client, unique, fused", 1, unique, "fused"))
        for name, clients, queries, mode in [s for s in scenarios if args.only in s[0]]:
            if queries is not unique:  # steady state: the popular queries have been asked before
                asyncio.run(_drive(port, 4, 0, mode, iter(pool), until_exhausted=True))
            print(f"scenario: {name} ({args.seconds:.0f} s)...", file=sys.stderr, flush=True)
            results, wall = asyncio.run(_drive(port, clients, args.seconds, mode, queries))
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
    print(f"{'scenario':<22} {'req/s':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'encoded':>8} {'enc p50':>8} {'enc p95':>8}")
    for name, rps, errors, p50, p95, p99, n_enc, e50, e95 in rows:
        print(f"{name:<22} {rps:7.1f} {errors:6d} {p50:7.1f} {p95:7.1f} {p99:7.1f} {n_enc:8d} {e50:8.1f} {e95:8.1f}")
    print("targets: p99 <= 100 ms with 32 clients (the repeated row: searches people repeat, "
          "as caching is meant to serve); CLIP text encoding p50 <= 20 ms (the fused row's enc p50). "
          "Rows with new queries show the cost of encoding under load.")


if __name__ == "__main__":
    main()
