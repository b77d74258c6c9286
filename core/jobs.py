"""The job table, owned by one class: indexing runs, their files, and which server runs a job.

A run of ``vidsearch index`` (origin ``cli``) or a job queued over HTTP (origin ``api``) is a row;
each file it considers is a row of its own with a state (pending, running, done, skipped, failed,
with stage and reason). ``vidsearch status`` and the API read progress and failures from here
while (or after) a run works. A run killed half way leaves its job ``running``; the next run over
the same roots takes it up again (files it had started go back to pending). The catalog's videos
stay the truth about what is indexed; a job says what happened in each run.

Servers that share a catalog must not run one API job twice, and a job whose server died must
not wait for that server to come back. A claim is a conditional UPDATE of the job's row (one
statement, so of two servers asking at once exactly one gets it): a job is free when nobody
holds it, or when its holder has not renewed the claim for ``LEASE_SECONDS``. The holder renews
its claims every third of that, so a file that takes longer than the lease does not lose its job.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import NamedTuple

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import sessionmaker

from .catalog import Job, JobFile
from .errors import NotFound

LEASE_SECONDS = 60.0


class JobRecord(NamedTuple):
    """A job as its readers see it, with its files counted per state and its failures."""

    id: int
    roots: list[str]
    status: str  # queued | running | done | failed
    origin: str  # cli | api
    force: bool
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    counts: dict[str, int]  # files per state
    failures: list[dict]  # path, stage, reason


def server_name() -> str:
    """A name for this server process, unique among the servers of one catalog."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class JobStore:
    """Every read and write of the ``jobs`` and ``job_files`` tables."""

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    # --- runs
    def queue(self, roots: list[str], force: bool, owner: str) -> int:
        """A new API job, queued and claimed by ``owner``; its id."""
        with self.sessions.begin() as session:
            row = Job(roots=roots, status="queued", origin="api", force=force, claimed_by=owner, heartbeat_at=_now())
            session.add(row)
            session.flush()
            return row.id

    def run(self, roots: list[str], job_id: int | None = None) -> "JobRun":
        """The record of one indexing run: job ``job_id`` (queued earlier by a server), else the
        interrupted CLI run over the same roots, else a new job."""
        roots = sorted(roots)
        with self.sessions.begin() as session:
            if job_id is not None:
                job = session.get(Job, job_id)
                if job is None:
                    raise NotFound(f"there is no job {job_id} in the catalog")
            else:
                job = session.scalar(select(Job).where(Job.status == "running", Job.origin == "cli")
                                     .order_by(Job.id.desc()))
            if job is None or (job_id is None and sorted(job.roots) != roots):
                job = Job(roots=roots, status="running")
                session.add(job)
                session.flush()
            else:  # resume: whatever was in flight when the last run died starts over
                job.status = "running"
                session.execute(update(JobFile).where(JobFile.job_id == job.id, JobFile.state == "running")
                                .values(state="pending"))
            return JobRun(self, job.id)

    def fail(self, job_id: int, error: str) -> None:
        with self.sessions.begin() as session:
            row = session.get(Job, job_id)
            row.status, row.error, row.finished_at = "failed", error[:4000], _now()

    # --- reads
    def get(self, job_id: int, origin: str | None = None) -> JobRecord | None:
        with self.sessions() as session:
            row = session.get(Job, job_id)
            if row is None or (origin is not None and row.origin != origin):
                return None
            return self._record(session, row)

    def latest(self, limit: int, origin: str | None = None) -> list[JobRecord]:
        """The newest ``limit`` jobs (of ``origin``), newest first."""
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if origin is not None:
            query = query.where(Job.origin == origin)
        with self.sessions() as session:
            return [self._record(session, row) for row in session.scalars(query)]

    @staticmethod
    def _record(session, row: Job) -> JobRecord:
        counts = dict(session.execute(
            select(JobFile.state, func.count()).where(JobFile.job_id == row.id).group_by(JobFile.state)).all())
        failures = session.execute(select(JobFile.path, JobFile.stage, JobFile.reason)
                                   .where(JobFile.job_id == row.id, JobFile.state == "failed")).all()
        return JobRecord(row.id, list(row.roots), row.status, row.origin, bool(row.force), row.error,
                         row.created_at, row.finished_at, counts,
                         [{"path": p, "stage": s, "reason": r} for p, s, r in failures])

    # --- claims (API jobs)
    @staticmethod
    def _free(owner: str, now: dt.datetime, lease: float):
        """Rows ``owner`` may take: unclaimed, its own, or left by a holder that stopped renewing."""
        return or_(Job.claimed_by.is_(None), Job.claimed_by == owner, Job.heartbeat_at.is_(None),
                   Job.heartbeat_at < now - dt.timedelta(seconds=lease))

    def claim(self, job_id: int, owner: str, lease: float = LEASE_SECONDS) -> bool:
        """Take job ``job_id`` for ``owner`` if it is free; True if ``owner`` holds it now."""
        now = _now()
        with self.sessions.begin() as session:
            result = session.execute(update(Job).where(Job.id == job_id, self._free(owner, now, lease))
                                     .values(claimed_by=owner, heartbeat_at=now))
            return result.rowcount == 1

    def renew(self, job_ids, owner: str) -> list[int]:
        """Renew ``owner``'s claims on ``job_ids``; returns the ids it still holds."""
        ids = sorted(int(i) for i in job_ids)
        if not ids:
            return []
        with self.sessions.begin() as session:
            session.execute(update(Job).where(Job.id.in_(ids), Job.claimed_by == owner).values(heartbeat_at=_now()))
            return list(session.scalars(select(Job.id).where(Job.id.in_(ids), Job.claimed_by == owner)))

    def unfinished(self, owner: str, lease: float = LEASE_SECONDS) -> list[int]:
        """API jobs queued or running that ``owner`` may take (oldest first)."""
        with self.sessions() as session:
            return list(session.scalars(select(Job.id).where(
                Job.origin == "api", Job.status.in_(("queued", "running")), self._free(owner, _now(), lease))
                .order_by(Job.id)))


class JobRun:
    """One run's record in the job table, as the indexer writes it file by file."""

    def __init__(self, store: JobStore, job_id: int):
        self.store = store
        self.id = job_id

    def plan(self, paths: list[str]) -> None:
        with self.store.sessions.begin() as session:
            known = set(session.scalars(select(JobFile.path).where(JobFile.job_id == self.id)))
            session.add_all(JobFile(job_id=self.id, path=p, state="pending") for p in paths if p not in known)

    def mark(self, path: str, state: str, stage: str | None = None, reason: str | None = None,
             duration: float = 0.0, attempt: bool = False) -> None:
        with self.store.sessions.begin() as session:
            row = session.scalar(select(JobFile).where(JobFile.job_id == self.id, JobFile.path == path))
            if row is None:
                row = JobFile(job_id=self.id, path=path, attempts=0)
                session.add(row)
            row.state, row.stage, row.reason = state, stage, (reason or "")[:4000] or None
            row.duration = duration or row.duration or 0.0
            row.attempts = (row.attempts or 0) + int(attempt)

    def finish(self) -> None:
        with self.store.sessions.begin() as session:
            job = session.get(Job, self.id)
            job.status, job.finished_at = "done", _now()
