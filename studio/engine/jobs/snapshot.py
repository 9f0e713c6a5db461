"""A job as every view shows it: a detached, typed copy of its row, and the read of changed ones.

The job hub in the app, the command line's progress and the automation API all read jobs
through ``changed_jobs``; nobody keeps a session-bound row around.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from studio.engine.db.database import Database
from studio.engine.db.models import Job
from studio.engine.db.types import utcnow
from studio.engine.jobs.status import JobStatus

# Rows are read again this far behind the newest one seen: on a server, a transaction that
# started earlier may commit after a later one.
OVERLAP = timedelta(seconds=3)
FIRST_READ_LIMIT = 500


def activity(stage: str, message: str, *, separator: str = " · ") -> str:
    """What a job is doing, in one line: its stage and message, without saying a thing twice
    ("Waiting for the GPU" as stage and "Waiting for the GPU: training 'mia' holds it")."""
    if stage and message.startswith(stage):
        return message
    return separator.join(part for part in (stage, message) if part)


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    id: uuid.UUID
    workspace_id: uuid.UUID
    type: str
    title: str
    queue: str
    status: JobStatus
    progress: float
    stage: str
    message: str
    error: str
    attempts: int
    max_attempts: int
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    version: int
    worker_id: str = ""  # host:pid:tag of the worker that ran it last (team mode: any machine)
    parent_id: uuid.UUID | None = None
    cost_usd: float = 0.0

    @classmethod
    def of(cls, job: Job) -> JobSnapshot:
        return cls(id=job.id, workspace_id=job.workspace_id, type=job.type,
                   title=job.title or job.type, queue=job.queue, status=JobStatus(job.status),
                   progress=job.progress, stage=job.stage, message=job.message, error=job.error,
                   attempts=job.attempts, max_attempts=job.max_attempts,
                   result=dict(job.result) if job.result is not None else None,
                   created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, updated_at=job.updated_at, version=job.version,
                   worker_id=job.worker_id or "", parent_id=job.parent_id, cost_usd=job.cost_usd)

    @property
    def finished(self) -> bool:
        return self.status.finished

    @property
    def activity(self) -> str:
        return activity(self.stage, self.message)

    @property
    def active(self) -> bool:
        return self.status.active

    def duration_s(self, now: datetime | None = None) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or now or utcnow()
        return max((end - self.started_at).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class JobCursor:
    """Where the last read of changed jobs got to; the first read has none."""

    newest: datetime | None = None


def changed_jobs(db: Database, workspace_id: uuid.UUID, cursor: JobCursor,
                 ) -> tuple[list[JobSnapshot], JobCursor]:
    """The workspace's jobs changed since ``cursor`` (newest first), and the cursor to use next.

    The first read returns the most recent jobs. Rows read again within the overlap come back
    unchanged; callers compare versions."""
    with db.session() as session:
        query = select(Job).where(Job.workspace_id == workspace_id)
        if cursor.newest is not None:
            query = query.where(Job.updated_at >= cursor.newest - OVERLAP)
        rows: Sequence[Job] = session.scalars(
            query.order_by(Job.updated_at.desc()).limit(FIRST_READ_LIMIT)).all()
        snapshots = [JobSnapshot.of(job) for job in rows]
    newest = max((s.updated_at for s in snapshots), default=cursor.newest)
    return snapshots, JobCursor(newest)


def job_snapshots(db: Database, workspace_id: uuid.UUID,
                  job_ids: Sequence[uuid.UUID]) -> list[JobSnapshot]:
    with db.session() as session:
        rows = session.scalars(select(Job).where(Job.workspace_id == workspace_id,
                                                 Job.id.in_(list(job_ids)))).all()
        return [JobSnapshot.of(job) for job in rows]
