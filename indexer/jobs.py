"""The job table: per-file state of an indexing run, kept in the catalog as the run goes.

``vidsearch status`` reads it to show progress and failures while (or after) a run works; a run
killed half way leaves its job ``running`` and the next run over the same roots takes it up again
(files it had started go back to pending). The catalog's videos stay the truth about what is
indexed; the job says what happened in each run.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from core.catalog import Job, JobFile
from core.errors import NotFound
from core.library import Library


class JobLog:
    """The catalog's record of one run: a new job, the interrupted one over the same roots, or
    (``job_id``) a job queued earlier by the server."""

    def __init__(self, library: Library, roots: list[str], job_id: int | None = None):
        self.sessions = library.sessions
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
            self.id = job.id

    def plan(self, paths: list[str]) -> None:
        with self.sessions.begin() as session:
            known = set(session.scalars(select(JobFile.path).where(JobFile.job_id == self.id)))
            session.add_all(JobFile(job_id=self.id, path=p, state="pending") for p in paths if p not in known)

    def mark(self, path: str, state: str, stage: str | None = None, reason: str | None = None,
             duration: float = 0.0, attempt: bool = False) -> None:
        with self.sessions.begin() as session:
            row = session.scalar(select(JobFile).where(JobFile.job_id == self.id, JobFile.path == path))
            if row is None:
                row = JobFile(job_id=self.id, path=path, attempts=0)
                session.add(row)
            row.state, row.stage, row.reason = state, stage, (reason or "")[:4000] or None
            row.duration = duration or row.duration or 0.0
            row.attempts = (row.attempts or 0) + int(attempt)

    def finish(self) -> None:
        with self.sessions.begin() as session:
            job = session.get(Job, self.id)
            job.status, job.finished_at = "done", dt.datetime.now(dt.timezone.utc)


def file_states(session, job_id: int) -> tuple[dict[str, int], list[dict]]:
    """A job's files per state, and its failures (path, stage, reason): what every view shows."""
    counts = dict(session.execute(
        select(JobFile.state, func.count()).where(JobFile.job_id == job_id).group_by(JobFile.state)).all())
    failures = session.execute(select(JobFile.path, JobFile.stage, JobFile.reason)
                               .where(JobFile.job_id == job_id, JobFile.state == "failed")).all()
    return counts, [{"path": p, "stage": s, "reason": r} for p, s, r in failures]


def job_summaries(library: Library, limit: int = 5) -> list[dict]:
    """The latest jobs with their per-state counts and failures (for ``vidsearch status``)."""
    out = []
    with library.sessions() as session:
        for job in session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
            counts, failures = file_states(session, job.id)
            out.append({"id": job.id, "status": job.status, "roots": job.roots, "counts": counts,
                        "created_at": job.created_at.isoformat(), "failures": failures})
    return out
