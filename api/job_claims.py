"""Which server runs an API job: a claim in the catalog, renewed while the job runs.

Servers that share a catalog must not run one job twice, and a job whose server died must not
wait for that server to come back. A claim is a conditional UPDATE of the job's row (one
statement, so of two servers asking at once exactly one gets the row): a job is free when
nobody holds it, or when its holder has not renewed the claim for ``LEASE_SECONDS``. The holder
renews its claims every third of that, from a thread of its own, so a file that takes longer
than the lease to index does not lose its job.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from core.catalog import Job

LEASE_SECONDS = 60.0


def server_name() -> str:
    """A name for this server process, unique among the servers of one catalog."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _free(owner: str, now: dt.datetime, lease: float):
    """Rows ``owner`` may take: unclaimed, its own, or left by a holder that stopped renewing."""
    return or_(Job.claimed_by.is_(None), Job.claimed_by == owner, Job.heartbeat_at.is_(None),
               Job.heartbeat_at < now - dt.timedelta(seconds=lease))


def claim(sessions: sessionmaker, job_id: int, owner: str, lease: float = LEASE_SECONDS) -> bool:
    """Take job ``job_id`` for ``owner`` if it is free; True if ``owner`` holds it now."""
    now = _now()
    with sessions.begin() as session:
        result = session.execute(update(Job).where(Job.id == job_id, _free(owner, now, lease))
                                 .values(claimed_by=owner, heartbeat_at=now))
        return result.rowcount == 1


def renew(sessions: sessionmaker, job_ids, owner: str) -> list[int]:
    """Renew ``owner``'s claims on ``job_ids``; returns the ids it still holds."""
    ids = sorted(int(i) for i in job_ids)
    if not ids:
        return []
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id.in_(ids), Job.claimed_by == owner).values(heartbeat_at=_now()))
        return list(session.scalars(select(Job.id).where(Job.id.in_(ids), Job.claimed_by == owner)))


def unfinished(sessions: sessionmaker, owner: str, lease: float = LEASE_SECONDS) -> list[int]:
    """API jobs queued or running that ``owner`` may take (oldest first)."""
    with sessions() as session:
        return list(session.scalars(select(Job.id).where(
            Job.origin == "api", Job.status.in_(("queued", "running")), _free(owner, _now(), lease))
            .order_by(Job.id)))
