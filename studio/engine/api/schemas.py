"""JSON views shared by the route modules. A job looks the same wherever the API shows it: the
fields ``jobs show --json`` prints, its payload, result and error cleaned (sanitize.py)."""
from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from studio.engine.api.sanitize import clean_text, clean_value
from studio.engine.db.models import Job
from studio.engine.jobs.status import JobStatus


class JobOut(BaseModel):
    """A job as the API answers it (202 bodies of job-creating calls too)."""

    id: uuid.UUID
    type: str
    queue: str
    status: JobStatus
    title: str
    progress: float = Field(description="0 to 1")
    stage: str
    message: str
    error: str
    attempts: int
    max_attempts: int
    cost_usd: float
    priority: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    parent_id: uuid.UUID | None
    payload: dict[str, Any]
    result: dict[str, Any] | None


class Message(BaseModel):
    """An error or a short confirmation."""

    detail: str


def job_view(job: Job, data_dir: Path | None = None) -> JobOut:
    """``job`` as the API shows it; pass the studio's data folder so paths in it read relative
    to it (without it, every absolute path is cut to its file name)."""
    return JobOut(
        id=job.id, type=job.type, queue=job.queue, status=JobStatus(job.status), title=clean_text(job.title, data_dir),
        progress=job.progress, stage=job.stage, message=clean_text(job.message, data_dir),
        error=clean_text(job.error, data_dir), attempts=job.attempts, max_attempts=job.max_attempts,
        cost_usd=job.cost_usd, priority=job.priority, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at, parent_id=job.parent_id,
        payload=clean_value(job.payload or {}, data_dir),
        result=None if job.result is None else clean_value(job.result, data_dir))


Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": Message, "description": "Not found in the token's workspace"}}
# Every route can answer these (app.py adds them to each router's documentation).
COMMON_ERRORS: Responses = {
    401: {"model": Message, "description": "No token, or not a valid one"},
    403: {"model": Message, "description": "A read-only token asked for a change"},
    413: {"model": Message, "description": "The body is over api.max_body_mb"},
    429: {"model": Message, "description": "Over api.requests_per_minute; see Retry-After"},
}
