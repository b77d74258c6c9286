"""Prometheus metrics of the search service: request latency, query encoding, index size, jobs.

Each app has its own registry (two apps in one process, as in tests, do not share counters).
Latency is labelled by the route *template* (``/api/videos/{video_id}``), never the raw path,
so a scan of ids cannot blow up the number of series. Index size and job counts are read when
scraped, so they are never stale.
"""
from __future__ import annotations

from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.library import Library
from .query import QueryEncoder


class _JobCounts(Protocol):
    def counts(self) -> dict[str, int]: ...


class Sources(Protocol):
    """What the gauges read at scrape time (the server's ``Services``)."""

    library: Library
    jobs: _JobCounts
    queries: QueryEncoder

_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class _Live:
    """Gauges computed at scrape time from the services' current state."""

    def __init__(self, services: Sources):
        self.services = services

    def collect(self):
        vectors = GaugeMetricFamily("vidsearch_index_vectors", "Vectors in each FAISS index",
                                    labels=["space"])
        for space, index in list(self.services.library.indexes.items()):
            vectors.add_metric([space], len(index))
        yield vectors
        jobs = GaugeMetricFamily("vidsearch_jobs", "Indexing jobs by state", labels=["state"])
        for state, count in self.services.jobs.counts().items():
            jobs.add_metric([state], count)
        yield jobs
        cache = GaugeMetricFamily("vidsearch_query_cache_entries", "Text queries with cached vectors")
        cache.add_metric([], len(self.services.queries.vectors))
        yield cache


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, services: Sources):
        self.registry = CollectorRegistry()
        self.requests = Histogram("vidsearch_request_seconds", "HTTP request latency",
                                  ["method", "route", "status"], buckets=_BUCKETS,
                                  registry=self.registry)
        self.encode = Histogram("vidsearch_query_encode_seconds",
                                "Text query encoding time (cache misses only)", ["mode"],
                                buckets=_BUCKETS, registry=self.registry)
        self.cache = Counter("vidsearch_query_cache_total", "Text searches by what was cached (result, vectors, miss)", ["result"],
                             registry=self.registry)
        self.job_files = Counter("vidsearch_job_files_total", "Files finished by indexing jobs",
                                 ["status"], registry=self.registry)
        self.registry.register(_Live(services))

    def render(self) -> bytes:
        return generate_latest(self.registry)
