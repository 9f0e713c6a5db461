"""Finds jobs left ``processing`` by a process that died, and re-runs or abandons them.

The owner of a processing job is the worker (or command line running it in-process) whose id
is on the row; its heartbeat row holds host, pid and when it was alive. A job is orphaned only
when that owner is gone: stopped, a heartbeat older than the timeout, or, on this host, no
process at that pid any more (or a later process that reused the pid). An orphan is queued again
only when running it again is safe; a job type that makes paid calls is not re-run silently (it
may have paid for calls whose answers died with its process): it fails as abandoned, and
``jobs retry`` runs it again when the user chooses to.
"""
from __future__ import annotations

import functools
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from huey.api import Task
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from studio.engine.db.database import Database, retry_if_stale
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.errors import StudioError
from studio.engine.jobs.queueset import QueueSet
from studio.engine.jobs.registry import get_type
from studio.engine.jobs.status import JobStatus
from studio.engine.processes import still_running
from studio.engine.webhooks.outbox import record_job_finished

log = logging.getLogger("studio.jobs")
REQUEUED, FAILED, ABANDONED = "requeued", "failed", "abandoned"
LOST = "queued again"  # a waiting job whose queue message was gone


@dataclass(frozen=True, slots=True)
class Recovered:
    job_id: str
    action: str  # REQUEUED, FAILED (out of attempts or cancel asked) or ABANDONED (not safe)


def worker_is_gone(worker: WorkerRecord | None, *, timeout_s: float, me: str | None = None) -> bool:
    """Gone: no record, stopped, a stale heartbeat, or on this host no longer that process.
    Never the asking worker itself: it is alive, whatever its record says after an outage."""
    if worker is not None and worker.id == me:
        return False
    if worker is None or worker.stopped_at is not None:
        return True
    if utcnow() - worker.heartbeat_at > timedelta(seconds=timeout_s):
        return True
    if worker.host == socket.gethostname():
        return worker.pid == os.getpid() or not still_running(worker.pid, alive_at=worker.started_at)
    return False


def recover_orphans(db: Database, queues: QueueSet, *, timeout_s: float,
                    me: str | None = None) -> list[Recovered]:
    """Every orphaned job of every workspace (a worker does this when it starts and each beat)."""
    with db.session() as session:
        candidates = session.scalars(select(Job.id).where(Job.status == JobStatus.PROCESSING)).all()
    return _recover(db, queues, list(candidates), timeout_s=timeout_s, me=me)


def recover_job(db: Database, queues: QueueSet, job_id: uuid.UUID, *,
                timeout_s: float) -> Recovered | None:
    """The one job a command line waits on, when its owner is gone and no worker recovers it."""
    found = _recover(db, queues, [job_id], timeout_s=timeout_s, me=None)
    return found[0] if found else None


def _recover(db: Database, queues: QueueSet, job_ids: list[uuid.UUID], *, timeout_s: float,
             me: str | None) -> list[Recovered]:
    recovered = []
    for job_id in job_ids:
        try:
            item = retry_if_stale(functools.partial(_settle, db, job_id, timeout_s, me))
        except (StudioError, StaleDataError) as exc:  # recovered elsewhere at the same moment
            log.warning("orphaned job %s left to the other recovery: %s", job_id, exc)
            continue
        if item is None:
            continue
        if item.action == REQUEUED:
            _requeue(db, queues, item.job_id)
        else:  # it failed: the webhooks that want job.failed hear of it
            record_job_finished(db, job_id)
        log.warning("orphaned job %s %s", item.job_id, item.action)
        recovered.append(item)
    return recovered


def _settle(db: Database, job_id: uuid.UUID, timeout_s: float, me: str | None) -> Recovered | None:
    """One orphan decided in one transaction; None when the job is not (or no longer) orphaned."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != JobStatus.PROCESSING:
            return None
        worker = session.get(WorkerRecord, job.worker_id) if job.worker_id else None
        if not worker_is_gone(worker, timeout_s=timeout_s, me=me):
            return None
        where = _owner_words(worker)
        job.worker_id = None
        if job.cancel_requested or job.attempts >= job.max_attempts:
            _fail(job, f"The {where} stopped unexpectedly, after {job.attempts} attempt(s).")
            return Recovered(str(job.id), FAILED)
        if _makes_paid_calls(job.type):
            _fail(job, f"Abandoned: the {where} stopped in the middle of it, and it may already "
                       f"have paid for calls; it is not run again by itself. "
                       f"`jobs retry {job.id}` runs it again.")
            return Recovered(str(job.id), ABANDONED)
        job.status = JobStatus.PENDING
        job.cancel_requested = False
        job.progress = 0.0
        job.message = f"Restarted: the {where} stopped unexpectedly."
        return Recovered(str(job.id), REQUEUED)


def _owner_words(worker: WorkerRecord | None) -> str:
    if worker is None:
        return "worker running this job"
    kind = "command line running this job" if is_in_process(worker.id) else "worker running this job"
    return f"{kind} (pid {worker.pid} on {worker.host})"


def is_in_process(worker_id: str) -> bool:
    """A command line running its own job (worker/inline.py names it ``host:pid:cli-…``)."""
    return ":cli-" in worker_id


def _fail(job: Job, error: str) -> None:
    job.status = JobStatus.FAILED
    job.finished_at = utcnow()
    job.cancel_requested = False
    job.error = error
    job.message = "Failed."


def _makes_paid_calls(job_type: str) -> bool:
    try:
        return get_type(job_type).paid_calls
    except StudioError:  # a type this studio does not know: it could not run it either way
        return False


def _requeue(db: Database, queues: QueueSet, job_id: str) -> None:
    """The job's new message is put once the row names it (committed), or a worker taking it at
    once would find the row waiting for another message (job_rows.claim)."""
    with db.session() as session:
        job = session.get(Job, uuid.UUID(job_id))
        if job is None or job.status != JobStatus.PENDING:
            return
        queue = job.queue
        task = queues.task(queue, job_id, priority=job.priority)
        job.task_id = str(task.id)
    queues.put(queue, task)


def requeue_lost(db: Database, queues: QueueSet, *, grace_s: float) -> list[Recovered]:
    """Waiting jobs whose queue message is gone (Redis lost it, an enqueue failed, a worker
    dropped it) are queued again. Only jobs untouched for ``grace_s``: a message being taken
    right now is not in the queue either, and its job changes the moment it starts."""
    cutoff = utcnow() - timedelta(seconds=grace_s)
    with db.session() as session:
        rows = session.execute(select(Job.id, Job.queue, Job.task_id).where(
            Job.status == JobStatus.PENDING, Job.updated_at < cutoff,
            or_(Job.next_attempt_at.is_(None), Job.next_attempt_at < cutoff))).all()
    queued: dict[str, set[str]] = {}
    found = []
    for job_id, queue, task_id in rows:
        if queue not in queues.hueys:
            continue  # a queue this studio does not know: nothing here could run it
        if queue not in queued:
            queued[queue] = queued_task_ids(queues, queue)
        if task_id in queued[queue]:
            continue
        try:
            task = retry_if_stale(functools.partial(_reissue, db, queues, job_id, task_id))
        except StaleDataError:  # another worker did it at the same moment
            continue
        if task is not None:
            queues.put(queue, task)
            log.warning("waiting job %s had lost its queue message; %s", job_id, LOST)
            found.append(Recovered(str(job_id), LOST))
    return found


def queued_task_ids(queues: QueueSet, queue: str) -> set[str]:
    """The task ids of the messages waiting in ``queue``, due now or later."""
    huey = queues.hueys[queue]
    return {str(task.id) for task in [*huey.pending(), *huey.scheduled()]}


def message_lost(queues: QueueSet, job: Job) -> bool:
    """A waiting job with no message left in its queue (``jobs retry`` sends it again)."""
    return (job.status == JobStatus.PENDING and job.queue in queues.hueys
            and job.task_id not in queued_task_ids(queues, job.queue))


def _reissue(db: Database, queues: QueueSet, job_id: uuid.UUID, task_id: str | None) -> Task | None:
    """Stores a new task id on the job (the version check lets one recovery win), then the
    caller queues it: a crash in between leaves a lost message, found again next time."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != JobStatus.PENDING or job.task_id != task_id:
            return None
        task = queues.task(job.queue, str(job.id), priority=job.priority)
        job.task_id = str(task.id)
        job.message = "Queued again: its queue message was lost."
        return task
