"""/jobs: ``jobs list|show|cancel|retry`` over HTTP, and a wait that long-polls a job to its end.
``{job}`` is a job id or a unique prefix of one, as on the command line."""
from __future__ import annotations

import asyncio
import time
import uuid

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.schemas import NOT_FOUND, JobOut, job_view
from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.jobs.status import FINISHED, JobStatus
from studio.engine.lookup import find_job_id

router = APIRouter(prefix="/jobs", tags=["jobs"])
POLL_S = 0.25
MAX_WAIT_S = 300.0
STILL_RUNNING = {202: {"model": JobOut, "description": "Still pending or processing at the timeout"},
                 **NOT_FOUND}


@router.get("", response_model=list[JobOut])
def list_jobs(studio: StudioDep, who: Reader, status: JobStatus | None = None,
              type: str | None = Query(default=None, description="only jobs of this type"),
              limit: int = Query(default=50, ge=1, le=500)) -> list[JobOut]:
    """Recent jobs, newest first."""
    jobs = studio.jobs.list(who.workspace_id, status=status, limit=limit if type is None else 500)
    chosen = [j for j in jobs if type is None or j.type == type][:limit]
    return [job_view(j, studio.paths.data_dir) for j in chosen]


@router.get("/{job}", response_model=JobOut, responses=NOT_FOUND)
def show_job(job: str, studio: StudioDep, who: Reader) -> JobOut:
    return job_view(_get(studio, who.workspace_id, job), studio.paths.data_dir)


@router.post("/{job}/cancel", response_model=JobOut, responses=NOT_FOUND)
def cancel_job(job: str, studio: StudioDep, who: Writer) -> JobOut:
    """A waiting job is canceled at once; a running one is asked to stop and stops soon."""
    done = studio.jobs.cancel(who.workspace_id, _job_id(studio, who.workspace_id, job))
    return job_view(done, studio.paths.data_dir)


@router.post("/{job}/retry", status_code=202, response_model=JobOut, responses=NOT_FOUND)
def retry_job(job: str, studio: StudioDep, who: Writer) -> JobOut:
    """Queues a failed or canceled job again."""
    again = studio.jobs.retry(who.workspace_id, _job_id(studio, who.workspace_id, job))
    return job_view(again, studio.paths.data_dir)


@router.get("/{job}/wait", response_model=JobOut, responses=STILL_RUNNING)
async def wait_job(job: str, studio: StudioDep, who: Reader, response: Response,
                   timeout: float = Query(default=30.0, ge=0, le=MAX_WAIT_S,
                                          description="seconds to wait at most")) -> JobOut:
    """The job once it has finished (200), or as it is when ``timeout`` runs out (202)."""
    job_id = await run_in_threadpool(_job_id, studio, who.workspace_id, job)
    deadline = time.monotonic() + timeout
    while True:
        found = await run_in_threadpool(studio.jobs.get, who.workspace_id, job_id)
        if found.status in FINISHED or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    if found.status not in FINISHED:
        response.status_code = 202
    return job_view(found, studio.paths.data_dir)


def _get(studio: Studio, workspace_id: uuid.UUID, text: str) -> Job:
    return studio.jobs.get(workspace_id, _job_id(studio, workspace_id, text))


def _job_id(studio: Studio, workspace_id: uuid.UUID, text: str) -> uuid.UUID:
    """A full id is used as it is (the workspace's Repository answers for it); a prefix is
    looked up among the workspace's jobs, as ``jobs show`` does."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return find_job_id(studio, workspace_id=workspace_id, text=text)
