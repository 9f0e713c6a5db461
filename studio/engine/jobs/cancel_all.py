"""Canceling every unfinished job for good, as quitting the app with "Cancel jobs" does.

Each job is canceled the way the Queue page's Cancel does it (``JobService.cancel``): a waiting
one at once, a running one asked to stop (a job waiting for the GPU stops within a second). What
is still unfinished once the local worker has stopped is settled here, so nothing runs again at
the next launch: a job the stopping worker put back in the queue is canceled (its message
revoked), and one left running by a process that is gone is marked canceled.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.jobs.recovery import worker_is_gone
from studio.engine.jobs.service import JobService
from studio.engine.jobs.status import ACTIVE, FINISHED, JobStatus
from studio.engine.webhooks.outbox import record_job_finished

CANCELED_MESSAGE = "Canceled when the app quit."


@dataclass(frozen=True, slots=True)
class JobKey:
    workspace_id: uuid.UUID
    job_id: uuid.UUID


def active_jobs(service: JobService) -> list[JobKey]:
    """Every waiting or running job of every workspace (no list limit: a big batch counts)."""
    with service.db.session() as session:
        rows = session.execute(select(Job.workspace_id, Job.id).where(Job.status.in_(ACTIVE))).all()
    return [JobKey(workspace_id, job_id) for workspace_id, job_id in rows]


def cancel_active(service: JobService) -> list[JobKey]:
    """Cancels every unfinished job; returns them all (running ones stop soon after)."""
    keys = active_jobs(service)
    for key in keys:
        try:
            service.cancel(key.workspace_id, key.job_id)
        except (InvalidInput, NotFound):
            pass  # it finished or went away meanwhile
    return keys


def unfinished(service: JobService, keys: list[JobKey]) -> list[JobKey]:
    """Those of ``keys`` still waiting or running."""
    if not keys:
        return []
    wanted = {key.job_id for key in keys}
    with service.db.session() as session:
        left = set(session.scalars(select(Job.id).where(Job.id.in_(wanted), Job.status.in_(ACTIVE))).all())
    return [key for key in keys if key.job_id in left]


def still_stopping(service: JobService, keys: list[JobKey], *, timeout_s: float) -> list[JobKey]:
    """Settles what need not wait and returns the jobs a live worker still runs (asked to stop,
    it stops at its next check). A job waiting again (a stopping worker put it back) is canceled
    once more, and one left running by a process that is gone ends canceled here."""
    return [key for key in unfinished(service, keys) if not _settled(service, key, timeout_s=timeout_s)]


def _settled(service: JobService, key: JobKey, *, timeout_s: float) -> bool:
    if _end_if_orphaned(service, key.job_id, timeout_s=timeout_s):
        return True
    with service.db.session() as session:
        waiting = session.scalar(select(Job.status).where(Job.id == key.job_id)) == JobStatus.PENDING
    if not waiting:
        return False
    try:
        service.cancel(key.workspace_id, key.job_id)
    except (InvalidInput, NotFound):
        return False  # it started or finished meanwhile: the next round sees which
    return True


def _end_if_orphaned(service: JobService, job_id: uuid.UUID, *, timeout_s: float) -> bool:
    """Whether the job has ended: finished already, or running with its owner gone (then it
    ends canceled now). A waiting one has not."""
    with service.db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status in FINISHED:
            return True
        if job.status != JobStatus.PROCESSING:
            return False
        owner = session.get(WorkerRecord, job.worker_id) if job.worker_id else None
        if not worker_is_gone(owner, timeout_s=timeout_s):
            return False
        job.status = JobStatus.CANCELED
        job.message = CANCELED_MESSAGE
        job.finished_at = utcnow()
        job.cancel_requested = False
        job.worker_id = None
    record_job_finished(service.db, job_id)  # job.canceled, for webhooks (after the commit)
    return True
