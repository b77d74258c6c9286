"""The job table: per-file states, and a killed run's job taken up again by the next run."""
from sqlalchemy import select

from indexer.jobs import JobLog, job_summaries
from core.catalog import JobFile
from core.library import Library
from core.settings import Settings


def test_states_and_resume(tmp_path, catalog_url):
    library = Library(Settings(data_dir=tmp_path / "d", database_url=catalog_url))
    job = JobLog(library, ["/archive"])
    job.plan(["/archive/a.mp4", "/archive/b.mp4", "/archive/c.mp4"])
    job.mark("/archive/a.mp4", "running", attempt=True)
    job.mark("/archive/a.mp4", "done", duration=12.5)
    job.mark("/archive/b.mp4", "running", attempt=True)  # ... and the process is killed here
    again = JobLog(library, ["/archive"])
    assert again.id == job.id
    with library.sessions() as s:
        states = dict(s.execute(select(JobFile.path, JobFile.state).where(JobFile.job_id == job.id)).all())
    assert states == {"/archive/a.mp4": "done", "/archive/b.mp4": "pending", "/archive/c.mp4": "pending"}
    again.plan(["/archive/a.mp4", "/archive/d.mp4"])  # planning twice adds only what is new
    again.mark("/archive/b.mp4", "failed", "decode", "InvalidDataError: bad", attempt=True)
    again.finish()
    (summary,) = job_summaries(library)
    assert summary["status"] == "done" and summary["counts"] == {"done": 1, "pending": 2, "failed": 1}
    assert summary["failures"] == [{"path": "/archive/b.mp4", "stage": "decode", "reason": "InvalidDataError: bad"}]
    with library.sessions() as s:
        assert s.scalar(select(JobFile.attempts).where(JobFile.path == "/archive/b.mp4")) == 2
    assert JobLog(library, ["/archive"]).id != job.id  # a finished job is not resumed
    assert JobLog(library, ["/other"]).id != job.id
