"""Indexing jobs started over HTTP: queued, run one at a time off the event loop, watched by id.

``POST /api/index`` returns at once with a job; the job runs the ordinary indexer (worker
processes, crash isolation, per-file failure records) on one dedicated thread, so two jobs never
write at once and searches keep their threads. Progress is counted per finished file (the
indexer's ``on_file`` callback) and every failed file is listed with its stage and reason. After
each change the serving indexes are refreshed (at most every ``REFRESH_SECONDS``, and at the end),
so new videos become searchable while a long job is still running.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.report import FileOutcome
from indexer.scan import scan

from .security import resolve_under_roots

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
KEEP_JOBS = 200


@dataclasses.dataclass
class Job:
    id: int
    paths: list[str]
    force: bool = False
    state: str = "queued"  # queued | running | done | failed
    total: int = 0  # files found to consider
    done: int = 0  # files finished (indexed, skipped or failed)
    counts: dict = dataclasses.field(default_factory=dict)  # per outcome status
    errors: list[dict] = dataclasses.field(default_factory=list)  # failed files: path, stage, reason
    error: str | None = None  # why the whole job failed, if it did
    catalog_job_id: int | None = None
    created_at: float = dataclasses.field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["progress"] = round(self.done / self.total, 4) if self.total else (1.0 if self.state == "done" else 0.0)
        return data


class JobManager:
    def __init__(self, services: "Services"):
        self.services = services
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._runner = ThreadPoolExecutor(1, thread_name_prefix="vidsearch-index")

    # --- API
    def submit(self, raw_paths: list[str], force: bool = False) -> Job:
        """Check every path against the allowed roots (``PermissionError``), then queue a job."""
        paths = [str(resolve_under_roots(p, self.services.settings)) for p in raw_paths]
        with self._lock:
            job = Job(id=next(self._ids), paths=paths, force=force)
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-KEEP_JOBS]:
                if self._jobs[old].state in ("done", "failed"):
                    del self._jobs[old]
        self._runner.submit(self._run, job)
        return job

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: -j.id)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("queued", "running", "done", "failed"), 0)
        for job in list(self._jobs.values()):
            out[job.state] += 1
        return out

    def close(self) -> None:
        self._runner.shutdown(wait=True, cancel_futures=True)

    # --- the work
    def _files(self, job: Job) -> list[str]:
        """What to hand the indexer: the folders, unless a symlink inside points outside the roots."""
        files, _ = scan(job.paths)
        outside = []
        for path in files:
            try:
                resolve_under_roots(str(path), self.services.settings)
            except PermissionError as exc:
                outside.append(path)
                job.errors.append({"path": str(path), "stage": "scan", "reason": str(exc)})
        job.total = len(files) - len(outside)
        if not outside:
            return job.paths
        missing = [p for p in job.paths if not Path(p).exists()]
        return [str(p) for p in files if p not in outside] + missing

    def _run(self, job: Job) -> None:
        services = self.services
        job.state, job.started_at = "running", time.time()
        last_refresh = [time.monotonic()]

        def on_file(outcome: FileOutcome, done: int, total: int) -> None:
            self._record(job, outcome)
            services.metrics.job_files.labels(outcome.status).inc()
            if outcome.status == "indexed" and time.monotonic() - last_refresh[0] >= REFRESH_SECONDS:
                services.refresh()
                last_refresh[0] = time.monotonic()

        try:
            targets = self._files(job)
            with services.write_lock:
                report = services.indexer().index(targets, force=job.force, on_file=on_file)
            job.catalog_job_id = report.job_id
            seen = {e["path"] for e in job.errors}
            counted = sum(job.counts.values())
            for outcome in report.outcomes:  # skipped and scan failures never reach on_file
                if outcome.status == "failed" and outcome.path not in seen:
                    job.errors.append({"path": outcome.path, "stage": outcome.stage, "reason": outcome.reason})
            job.counts = {s: len(report.of(s)) for s in ("indexed", "skipped", "moved", "pruned", "failed")}
            job.done = max(job.done, counted, len(report.outcomes))
            job.total = max(job.total, job.done)
            job.state = "done"
        except Exception as exc:  # a configuration problem (model mismatch, disk full): the job fails
            log.exception("indexing job %d failed", job.id)
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished_at = time.time()
            try:
                services.refresh()
            except Exception:  # pragma: no cover - the next refresh repairs it
                log.exception("could not refresh the serving indexes")

    @staticmethod
    def _record(job: Job, outcome: FileOutcome) -> None:
        job.done += 1
        job.counts[outcome.status] = job.counts.get(outcome.status, 0) + 1
        if outcome.status == "failed":
            job.errors.append({"path": outcome.path, "stage": outcome.stage, "reason": outcome.reason})
