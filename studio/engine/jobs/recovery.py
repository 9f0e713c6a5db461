"""Finds jobs left ``processing`` by a worker that died, and retries or fails them."""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from studio.engine.db.database import Database
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.queueset import QueueSet
from studio.engine.jobs.status import JobStatus

log = logging.getLogger("studio.jobs")


@dataclass(frozen=True, slots=True)
class Recovered:
    job_id: str
    action: str  # "requeued" or "failed"


def worker_is_gone(worker: WorkerRecord | None, *, timeout_s: float, me: str | None = None) -> bool:
    """Gone: no record, stopped, a stale heartbeat, or a process on this host that no longer exists."""
    if worker is None or worker.stopped_at is not None:
        return True
    if worker.id == me:
        return False
    if utcnow() - worker.heartbeat_at > timedelta(seconds=timeout_s):
        return True
    if worker.host == socket.gethostname():
        return not _pid_alive(worker.pid) or worker.pid == os.getpid()
    return False


def recover_orphans(db: Database, queues: QueueSet, *, timeout_s: float,
                    me: str | None = None) -> list[Recovered]:
    recovered: list[Recovered] = []
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.status == JobStatus.PROCESSING)).all()
        for job in jobs:
            worker = session.get(WorkerRecord, job.worker_id) if job.worker_id else None
            if not worker_is_gone(worker, timeout_s=timeout_s, me=me):
                continue
            where = f"pid {worker.pid} on {worker.host}" if worker else "an unknown worker"
            job.worker_id = None
            if job.cancel_requested or job.attempts >= job.max_attempts:
                job.status = JobStatus.FAILED
                job.finished_at = utcnow()
                job.error = (f"The worker running this job ({where}) stopped unexpectedly, "
                             f"after {job.attempts} attempt(s).")
                recovered.append(Recovered(str(job.id), JobStatus.FAILED))
            else:
                job.status = JobStatus.PENDING
                job.cancel_requested = False
                job.progress = 0.0
                job.message = f"Restarted: the worker running it ({where}) stopped unexpectedly."
                recovered.append(Recovered(str(job.id), "requeued"))
    for item in recovered:
        if item.action == "requeued":
            _requeue(db, queues, item.job_id)
        log.warning("orphaned job %s %s", item.job_id, item.action)
    return recovered


def _requeue(db: Database, queues: QueueSet, job_id: str) -> None:
    with db.session() as session:
        job = session.get(Job, uuid.UUID(job_id))
        if job is not None and job.status == JobStatus.PENDING:
            job.task_id = queues.enqueue(job.queue, job_id, priority=job.priority)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
