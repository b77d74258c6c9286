"""Indexing jobs started over HTTP: queued, run one at a time off the event loop, watched by id.

``POST /api/index`` returns at once with a job; the job runs the ordinary indexer (worker
processes, crash isolation, per-file failure records) on one dedicated thread, so two jobs never
write at once and searches keep their threads. Progress is counted per finished file (the
indexer's ``on_file`` callback) and every failed file is listed with its stage and reason. After
each change the serving indexes are refreshed (at most every ``REFRESH_SECONDS``, and at the end),
so new videos become searchable while a long job is still running.

Jobs live in the catalog's job table (``origin = "api"``), with the job's id as the API's id:
a server that stops or crashes with jobs queued or running takes them up again when it starts
(the indexer resumes where the files stood; finished files are skipped), and a finished job
can still be looked at after a restart (its per-file states come from the catalog then).
Several servers may share one catalog: each job is claimed by the server that runs it
(``core.jobs``), and a job whose server stopped renewing its claim is taken up by another.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.jobs import LEASE_SECONDS, JobRecord, server_name
from core.library import Library
from core.settings import Settings
from indexer.report import FileOutcome
from indexer.scan import scan

from .metrics import Metrics
from .security import resolve_under_roots

if TYPE_CHECKING:
    from indexer.pipeline import Indexer


class Host(Protocol):
    """What a job manager uses of the server (its ``Services``)."""

    settings: Settings
    library: Library
    metrics: Metrics
    write_lock: threading.Lock

    def indexer(self) -> "Indexer": ...

    def refresh(self) -> None: ...


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
    created_at: float = dataclasses.field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    media_seconds: float = 0.0  # of the files indexed so far

    def pace(self, now: float | None = None) -> dict:
        """Files and video-hours an hour so far, and the seconds left at that pace (None until
        a file is done, or once the job is)."""
        if self.started_at is None or self.done == 0:
            return {"files_per_hour": None, "video_hours_per_hour": None, "eta_seconds": None}
        elapsed = max(1e-3, (self.finished_at or now or time.time()) - self.started_at)
        left = None
        if self.state == "running" and self.total > self.done:
            left = round((self.total - self.done) * elapsed / self.done, 1)
        return {"files_per_hour": round(self.done * 3600 / elapsed, 1),
                "video_hours_per_hour": round(self.media_seconds / elapsed, 2), "eta_seconds": left}

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["catalog_job_id"] = self.id  # the same row since jobs live in the catalog (kept for old clients)
        data["progress"] = round(self.done / self.total, 4) if self.total else (1.0 if self.state == "done" else 0.0)
        data.update(self.pace())
        return data


class JobManager:
    def __init__(self, services: Host):
        self.services = services
        self._jobs: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._runner = ThreadPoolExecutor(1, thread_name_prefix="vidsearch-index")
        self.owner = server_name()
        self.lease = LEASE_SECONDS
        self._stop = threading.Event()
        self._claims: threading.Thread | None = None

    # --- API
    def submit(self, raw_paths: list[str], force: bool = False) -> Job:
        """Check every path against the allowed roots (``PermissionError``), then queue a job."""
        paths = [str(resolve_under_roots(p, self.services.settings)) for p in raw_paths]
        job_id = self.services.library.jobs.queue(paths, force, self.owner)
        return self._queue(Job(id=job_id, paths=paths, force=force))

    def resume(self) -> list[Job]:
        """Queue the jobs left queued or running by an earlier run of a server (this one, or one
        that stopped renewing its claims), and keep this server's claims alive from now on."""
        taken = self._take_up()
        if self._claims is None:
            self._claims = threading.Thread(target=self._keep_claims, name="vidsearch-job-claims", daemon=True)
            self._claims.start()
        return taken

    def _take_up(self) -> list[Job]:
        store = self.services.library.jobs
        taken = []
        for job_id in store.unfinished(self.owner, self.lease):
            if job_id in self._jobs or not store.claim(job_id, self.owner, self.lease):
                continue  # ours already, or another server was quicker
            row = store.get(job_id)
            log.info("taking up indexing job %d (%s), left %s by an earlier run", row.id, ", ".join(row.roots),
                     row.status)
            taken.append(self._queue(Job(id=row.id, paths=list(row.roots), force=row.force,
                                         created_at=_epoch(row.created_at))))
        return taken

    def _keep_claims(self) -> None:
        """Renew this server's claims, and take up jobs whose server stopped renewing theirs."""
        while not self._stop.wait(self.lease / 3):
            try:
                mine = [job.id for job in list(self._jobs.values()) if job.state in ("queued", "running")]
                self.services.library.jobs.renew(mine, self.owner)
                self._take_up()
            except Exception:  # pragma: no cover - a catalog hiccup: try again next round
                log.exception("could not renew indexing job claims")

    def _queue(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-KEEP_JOBS]:
                if self._jobs[old].state in ("done", "failed"):
                    del self._jobs[old]
        self._runner.submit(self._run, job)
        return job

    def get(self, job_id: int) -> Job | None:
        """A job of this server (live progress), else one of an earlier run, from the catalog."""
        job = self._jobs.get(job_id)
        if job is not None:
            return job
        record = self.services.library.jobs.get(job_id, origin="api")
        return _from_catalog(record) if record is not None else None

    def list(self) -> list[Job]:
        """This server's jobs and the latest of earlier runs, newest first."""
        jobs = dict(self._jobs)
        for record in self.services.library.jobs.latest(KEEP_JOBS, origin="api"):
            if record.id not in jobs:
                jobs[record.id] = _from_catalog(record)
        return sorted(jobs.values(), key=lambda j: -j.id)[:KEEP_JOBS]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("queued", "running", "done", "failed"), 0)
        for job in list(self._jobs.values()):
            out[job.state] += 1
        return out

    def close(self) -> None:
        self._stop.set()
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
                report = services.indexer().index(targets, force=job.force, on_file=on_file, job_id=job.id)
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
            services.library.jobs.fail(job.id, job.error)
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
        if outcome.status == "indexed":
            job.media_seconds += outcome.duration
        if outcome.status == "failed":
            job.errors.append({"path": outcome.path, "stage": outcome.stage, "reason": outcome.reason})


def _from_catalog(row: JobRecord) -> Job:
    """A job of an earlier server run as the catalog keeps it: per-file states and failures."""
    counts = row.counts
    total = sum(counts.values())
    return Job(id=row.id, paths=list(row.roots), force=row.force, state=row.status, total=total,
               done=total - counts.get("pending", 0) - counts.get("running", 0), counts=counts,
               errors=row.failures, error=row.error,
               created_at=_epoch(row.created_at),
               finished_at=_epoch(row.finished_at) if row.finished_at else None)


def _epoch(when: dt.datetime) -> float:
    """Seconds since the epoch; SQLite hands back UTC times without their zone."""
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()
