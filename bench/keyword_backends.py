"""Where keyword search lives with the Milvus backend: the catalog's full-text index (SQLite FTS5,
as today) against a BM25 sparse field in Milvus, on answers and on speed (issue #11).

    python -m bench.keyword_backends [--work-dir DIR] [--keep-index] [--sizes 100k,1M] [--queries 200]

Answers: the labelled lecture corpus, indexed as ``bench.quality`` indexes it (same work dir, so
``--keep-index`` reuses its index). Each query's keyword list comes once from the catalog and
once from a milvus-lite collection holding the same segments' words (transcript and screen text)
behind Milvus' BM25 function, with the catalog's analysis as near as Milvus allows (lower case,
the same stop words, an English Snowball stemmer where FTS5 uses Porter's). Both lists go through
the same ``Searcher.rank``, in keyword mode (BM25 scores) and in hybrid mode (a keyword hit counts
by its query coverage, whichever store found it), so the eval tables differ only by the store.

Speed: segments of narrated lecture text (three of the corpus' sentences each, drawn at random,
one video per 100 segments) at each size, written to a catalog (SQLite, the product's schema and
triggers) and to milvus-lite: build time, bytes on disk, and one-query p50/p99 over the labelled
queries' texts. The catalog side runs ``KeywordSearch`` with empty word-frequency caches for
every query (a new query's cost; repeats are cheaper).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.quality import indexed_corpus

ANALYZER_STEMMER = "english"


class MilvusBm25:
    """One milvus-lite collection of segment words with a BM25 sparse field."""

    def __init__(self, path: Path, name: str = "words"):
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        from search.keyword import STOP_WORDS

        self.client, self.name = MilvusClient(str(path)), name
        schema = self.client.create_schema()
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("words", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params={
            "tokenizer": "standard",
            "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOP_WORDS)},
                       {"type": "stemmer", "language": ANALYZER_STEMMER}]})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["words"], output_field_names=["sparse"]))
        index = self.client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")

    def add(self, rows: list[tuple[int, str]]) -> None:
        for at in range(0, len(rows), 5000):
            self.client.insert(self.name, [{"id": i, "words": w[:65000]} for i, w in rows[at:at + 5000]])

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        found = self.client.search(self.name, data=[query], anns_field="sparse", limit=limit,
                                   search_params={"metric_type": "BM25"})[0]
        # milvus-lite reports BM25 negated (smaller is better); the order is what counts
        return [(int(hit["id"]), abs(float(hit["distance"]))) for hit in found]

    def close(self) -> None:
        self.client.close()


def _segment_words(session) -> list[tuple[int, str]]:
    from sqlalchemy import text

    rows = session.execute(text("SELECT id, coalesce(transcript, '') || ' ' || coalesce(screen_text, '') "
                                "FROM segments"))
    return [(int(i), str(w)) for i, w in rows]


def answers(work_dir: Path, keep_index: bool, k: int) -> None:
    """Eval tables per split: keyword and hybrid modes with the catalog's list and with Milvus' list."""
    from search.quality.evaluate import evaluate, format_table, outcome_of
    from search.quality.metrics import by_kind
    from search.quality.querysets import load_queries
    from search.service import Searcher

    _, library, encoders, splits = indexed_corpus(work_dir, keep_index=keep_index)
    searcher = Searcher(library, encoders)
    with tempfile.TemporaryDirectory() as tmp:
        store = MilvusBm25(Path(tmp) / "bm25.db")
        with library.sessions() as session:
            store.add(_segment_words(session))
        for split, path in sorted(splits.items()):
            evaluation = evaluate(searcher, load_queries(path), ["hybrid", "keyword"], k=k, progress=False)
            table = {}
            for mode, rows in evaluation.results.items():
                table[f"{mode}/fts"] = by_kind([outcome for _, outcome, _ in rows], k)
                outcomes = []
                for gathered, _, _ in rows:
                    lists = {name: hits for name, hits in gathered.lists[mode].items() if name != "keyword"}
                    hits = store.search(gathered.query.text, 100)
                    if hits and mode == "hybrid":
                        with library.sessions() as session:
                            hits = searcher.keyword_search.with_coverage(session, gathered.query.text, hits)
                    if hits:
                        lists["keyword"] = hits
                    moved = dataclasses.replace(gathered, lists={mode: lists})
                    outcomes.append(outcome_of(searcher, moved, mode, k)[0])
                table[f"{mode}/bm25"] = by_kind(outcomes, k)
            print(f"\n== answers, {split}: {len(evaluation.results['keyword'])} queries, k={k} "
                  "(mode/fts: the catalog's full-text index; mode/bm25: Milvus' BM25 field)")
            print(format_table(table))
        store.close()


def _synthetic_segments(n: int, seed: int = 7) -> list[str]:
    from bench.quality_topics import LECTURES

    sentences = [s for lecture in LECTURES for topic in lecture.topics for s in topic.sentences]
    rng = random.Random(seed)
    return [" ".join(rng.choice(sentences) for _ in range(3)) for _ in range(n)]


def _catalog(path: Path, words: list[str]):
    from sqlalchemy import text

    from core.catalog import open_catalog

    sessions = open_catalog(f"sqlite:///{path}")
    with sessions() as session:
        videos = range(1, len(words) // 100 + 2)
        session.execute(text("INSERT INTO videos (id, path, size, mtime, status, duration, rotation, has_audio, "
                             "indexed_at) VALUES (:id, :path, 0, 0, 'indexed', 600, 0, 1, CURRENT_TIMESTAMP)"),
                        [{"id": v, "path": f"/archive/{v}.mp4"} for v in videos])
        session.execute(text('INSERT INTO segments (id, video_id, ordinal, start, "end", transcript, frame_count) '
                             "VALUES (:id, :video, :n, :s, :e, :w, 0)"),
                        [{"id": i, "video": i // 100 + 1, "n": i % 100, "s": 6.0 * (i % 100),
                          "e": 6.0 * (i % 100) + 6.0, "w": w} for i, w in enumerate(words, 1)])
        session.commit()
    return sessions


def _latency_ms(search, queries: list[str]) -> tuple[float, float]:
    """p50 and p99 of ``search(query)`` over ``queries``, one at a time."""
    times = []
    for query in queries:
        started = time.perf_counter()
        search(query)
        times.append(time.perf_counter() - started)
    return float(np.percentile(times, 50)) * 1000, float(np.percentile(times, 99)) * 1000


def speed(sizes: list[int], queries: list[str], limit: int) -> None:
    from search.keyword import KeywordSearch

    print(f"\n== speed: {platform.machine()}, one query at a time, {len(queries)} queries, top {limit}")
    print(f"{'segments':>9} {'store':<22} {'build s':>8} {'B/segment':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for size in sizes:
        words = _synthetic_segments(size)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            sessions = _catalog(Path(tmp) / "catalog.db", words)
            built = time.perf_counter() - started
            with sessions() as session:
                p50, p99 = _latency_ms(lambda query: KeywordSearch().search(session, query, limit), queries)
            disk = sum(f.stat().st_size for f in Path(tmp).glob("catalog.db*"))  # with its write-ahead log
            print(f"{size:>9,} {'catalog (SQLite FTS5)':<22} {built:>8.1f} {disk / size:>10.0f} "
                  f"{p50:>7.2f} {p99:>7.2f}", flush=True)

            started = time.perf_counter()
            store = MilvusBm25(Path(tmp) / "bm25.db")
            store.add(list(enumerate(words, 1)))
            store.client.flush(store.name)
            built = time.perf_counter() - started
            for query in queries[:10]:
                store.search(query, limit)
            p50, p99 = _latency_ms(lambda query: store.search(query, limit), queries)
            store.close()
            disk = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file() and "bm25" in str(f))
            print(f"{size:>9,} {'milvus-lite BM25':<22} {built:>8.1f} {disk / size:>10.0f} "
                  f"{p50:>7.2f} {p99:>7.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from bench.ann import parse_size

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/vidsearch-quality"))
    parser.add_argument("--keep-index", action="store_true", help="reuse an index already in the work dir")
    parser.add_argument("--sizes", default="100k,1M", help="segments for the speed table ('' for none)")
    parser.add_argument("--queries", type=int, default=200, help="queries timed at each size")
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args(argv)
    answers(args.work_dir, args.keep_index, args.k)
    texts = [json.loads(line)["query"] for line in (args.work_dir / "videos" / "queries.jsonl").read_text().splitlines()
             if line.strip()]
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    if sizes:
        speed(sizes, texts[:args.queries], 50)
    return 0


if __name__ == "__main__":
    sys.exit(main())
