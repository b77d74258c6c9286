"""One server per API job: claims in the catalog (SQLite and PostgreSQL), renewed or taken over."""
import datetime as dt
import threading

from sqlalchemy import update

from api import job_claims
from core.catalog import Job, open_catalog


def _job(sessions, **values) -> int:
    with sessions.begin() as session:
        row = Job(**{"roots": ["/archive"], "status": "queued", "origin": "api", **values})
        session.add(row)
        session.flush()
        return row.id


def test_a_claim_is_exclusive_until_its_holder_stops_renewing(tmp_path, catalog_url):
    sessions = open_catalog(catalog_url)
    job = _job(sessions)
    cli_job = _job(sessions, origin="cli")
    assert job_claims.unfinished(sessions, "a") == [job]  # the CLI's jobs are the CLI's
    assert job_claims.claim(sessions, job, "a") is True
    assert job_claims.claim(sessions, job, "b") is False and job_claims.unfinished(sessions, "b") == []
    assert job_claims.claim(sessions, job, "a") is True  # its own
    assert job_claims.renew(sessions, [job, cli_job], "a") == [job]
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=job_claims.LEASE_SECONDS + 5)
    with sessions.begin() as session:  # "a" died a lease ago
        session.execute(update(Job).where(Job.id == job).values(heartbeat_at=old))
    assert job_claims.unfinished(sessions, "b") == [job]
    assert job_claims.claim(sessions, job, "b") is True
    assert job_claims.renew(sessions, [job], "a") == [] and job_claims.renew(sessions, [job], "b") == [job]
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job).values(status="done"))
    assert job_claims.unfinished(sessions, "c", lease=0.0) == []


def test_of_servers_claiming_at_once_exactly_one_wins(tmp_path, catalog_url):
    sessions = open_catalog(catalog_url)
    job = _job(sessions)
    start, won = threading.Barrier(6), []

    def server(name):
        start.wait()
        if job_claims.claim(sessions, job, name):
            won.append(name)

    threads = [threading.Thread(target=server, args=(f"s{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
