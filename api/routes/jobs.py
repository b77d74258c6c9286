"""Indexing over HTTP: start a job on allowed folders, then watch its progress and failures."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam

from ..deps import KeyDep, ServicesDep
from ..schemas import IndexIn, JobOut, Message

router = APIRouter(prefix="/api", tags=["jobs"], dependencies=[KeyDep])


@router.post("/index", response_model=JobOut, status_code=202,
             responses={400: {"model": Message}, 403: {"model": Message}})
async def start_index(services: ServicesDep, body: IndexIn) -> JobOut:
    """Queue an indexing job over files or folders under the allowed roots."""
    try:
        job = await services.run(services.jobs.submit, body.paths, body.force)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from exc
    return JobOut(**job.as_dict())


@router.get("/jobs", response_model=list[JobOut])
async def list_jobs(services: ServicesDep) -> list[JobOut]:
    """Indexing jobs started over the API (by this run of the server or earlier ones), newest first."""
    return [JobOut(**job.as_dict()) for job in await services.run(services.jobs.list)]


@router.get("/jobs/{job_id}", response_model=JobOut, responses={404: {"model": Message}})
async def get_job(services: ServicesDep, job_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> JobOut:
    """A job's state, progress (files done of found) and per-file errors."""
    job = await services.run(services.jobs.get, job_id)
    if job is None:
        raise HTTPException(404, f"there is no indexing job {job_id}")
    return JobOut(**job.as_dict())
