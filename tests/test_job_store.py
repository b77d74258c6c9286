"""The job table (SQLite and PostgreSQL): per-file states, a killed run taken up again by the next
run, and one server per API job (claims renewed or taken over)."""
import datetime as dt
import threading

from sqlalchemy import select, update

from core.catalog import Job, JobFile, open_catalog
from core.jobs import LEASE_SECONDS, JobStore
from core.library import Library
from core.settings import Settings


def _job(sessions, **values) -> int:
    with sessions.begin() as session:
        row = Job(**{"roots": ["/archive"], "status": "queued", "origin": "api", **values})
        session.add(row)
        session.flush()
        return row.id


def test_a_claim_is_exclusive_until_its_holder_stops_renewing(tmp_path, catalog_url):
    sessions = open_catalog(catalog_url)
    store = JobStore(sessions)
    job = _job(sessions)
    cli_job = _job(sessions, origin="cli")
    assert store.unfinished("a") == [job]  # the CLI's jobs are the CLI's
    assert store.claim(job, "a") is True
    assert store.claim(job, "b") is False and store.unfinished("b") == []
    assert store.claim(job, "a") is True  # its own
    assert store.renew([job, cli_job], "a") == [job]
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=LEASE_SECONDS + 5)
    with sessions.begin() as session:  # "a" died a lease ago
        session.execute(update(Job).where(Job.id == job).values(heartbeat_at=old))
    assert store.unfinished("b") == [job]
    assert store.claim(job, "b") is True
    assert store.renew([job], "a") == [] and store.renew([job], "b") == [job]
    with sessions.begin() as session:
        session.execute(update(Job).where(Job.id == job).values(status="done"))
    assert store.unfinished("c", lease=0.0) == []


def test_of_servers_claiming_at_once_exactly_one_wins(tmp_path, catalog_url):
    sessions = open_catalog(catalog_url)
    store = JobStore(sessions)
    job = _job(sessions)
    start, won = threading.Barrier(6), []

    def server(name):
        start.wait()
        if store.claim(job, name):
            won.append(name)

    threads = [threading.Thread(target=server, args=(f"s{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_states_and_resume(tmp_path, catalog_url):
    library = Library(Settings(data_dir=tmp_path / "d", database_url=catalog_url))
    job = library.jobs.run(["/archive"])
    job.plan(["/archive/a.mp4", "/archive/b.mp4", "/archive/c.mp4"])
    job.mark("/archive/a.mp4", "running", attempt=True)
    job.mark("/archive/a.mp4", "done", duration=12.5)
    job.mark("/archive/b.mp4", "running", attempt=True)  # ... and the process is killed here
    again = library.jobs.run(["/archive"])
    assert again.id == job.id
    with library.sessions() as s:
        states = dict(s.execute(select(JobFile.path, JobFile.state).where(JobFile.job_id == job.id)).all())
    assert states == {"/archive/a.mp4": "done", "/archive/b.mp4": "pending", "/archive/c.mp4": "pending"}
    again.plan(["/archive/a.mp4", "/archive/d.mp4"])  # planning twice adds only what is new
    again.mark("/archive/b.mp4", "failed", "decode", "InvalidDataError: bad", attempt=True)
    again.finish()
    (record,) = library.jobs.latest(5)
    assert record.status == "done" and record.counts == {"done": 1, "pending": 2, "failed": 1}
    assert record.failures == [{"path": "/archive/b.mp4", "stage": "decode", "reason": "InvalidDataError: bad"}]
    assert library.jobs.get(job.id, origin="api") is None and library.jobs.latest(5, origin="api") == []
    with library.sessions() as s:
        assert s.scalar(select(JobFile.attempts).where(JobFile.path == "/archive/b.mp4")) == 2
    assert library.jobs.run(["/archive"]).id != job.id  # a finished job is not resumed
    assert library.jobs.run(["/other"]).id != job.id
