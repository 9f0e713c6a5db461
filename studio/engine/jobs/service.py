"""The job lifecycle as the UI and the command line see it: submit, list, cancel, retry.

pending → processing → completed | failed | canceled. Only the job id travels on the queue;
the row holds everything else.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import delete, select, update

from studio.engine.db.database import Database, rows_changed
from studio.engine.db.models import Job
from studio.engine.db.repositories import Repository
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput
from studio.engine.jobs.job_rows import detached_job, insert_jobs, new_row
from studio.engine.jobs.payloads import encode
from studio.engine.jobs.queues import QueueUnavailable, queue_unreachable
from studio.engine.jobs.queueset import QueueSet
from studio.engine.jobs.recovery import message_lost
from studio.engine.jobs.registry import get_type
from studio.engine.jobs.row_connections import SubmitConnection
from studio.engine.jobs.status import ACTIVE, STATUSES, JobStatus
from studio.engine.webhooks.outbox import record_job_finished

# What ``retry`` changes on a job, put back when its message cannot be queued.
_RETRY_RESETS = ("status", "error", "message", "progress", "stage", "cancel_requested", "started_at",
                 "finished_at", "next_attempt_at", "attempts", "task_id")


@dataclass(frozen=True, slots=True)
class NewJob:
    """One job to submit with others; its id is chosen first so another job can name it."""
    job_type: str
    payload: object
    title: str = ""
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)


class JobService:
    def __init__(self, db: Database, queues: QueueSet,
                 prepare: Callable[[object], None] | None = None) -> None:
        self.db = db
        self.queues = queues
        self.prepare = prepare  # team mode: puts the asset files a payload names in the bucket
        self.rows = SubmitConnection(db)  # new job rows are written with it

    def submit(self, workspace_id: uuid.UUID, job_type: str, payload: object, *,
               title: str = "", priority: int = 0) -> Job:
        """Queues one job; ``payload`` is an instance of the payload class the type registered."""
        return self.submit_many(workspace_id, job_type, [(payload, title)], priority=priority)[0]

    def submit_many(self, workspace_id: uuid.UUID, job_type: str,
                    items: Sequence[tuple[object, str]], *, priority: int = 0) -> list[Job]:
        """Jobs of one type, written in one transaction and then queued in order: a batch of
        images is one commit, not one per image, and the first starts while the rest queue."""
        return self.submit_all(workspace_id, [NewJob(job_type, payload, title) for payload, title in items],
                               priority=priority)

    def submit_all(self, workspace_id: uuid.UUID, orders: Sequence[NewJob], *,
                   priority: int = 0) -> list[Job]:
        """Jobs of any types, all in one transaction or none (a test grid's cells and its sheet)."""
        kinds = [get_type(order.job_type) for order in orders]
        for kind, order in zip(kinds, orders, strict=True):
            if type(order.payload) is not kind.payload:
                raise InvalidInput(f"A {kind.name} job takes a {kind.payload.__name__}, not a "
                                   f"{type(order.payload).__name__}.")
            if self.prepare is not None:  # before the transaction: it may upload files
                self.prepare(order.payload)
        tasks, rows = [], []
        now = utcnow()
        for kind, order in zip(kinds, orders, strict=True):
            task = self.queues.task(kind.queue, str(order.job_id), priority=priority)
            tasks.append((kind.queue, task))
            rows.append(new_row(workspace_id, order.job_id, kind.name, kind.queue, encode(order.payload),
                                title=order.title or kind.name, priority=priority, task_id=str(task.id),
                                now=now))
        insert_jobs(self.db, workspace_id, rows, self.rows)
        jobs = [detached_job(row) for row in rows]
        try:
            for queue, task in tasks:
                self.queues.put(queue, task)
        except QueueUnavailable:
            self._withdraw(workspace_id, [job.id for job in jobs])
            raise
        return jobs

    def _withdraw(self, workspace_id: uuid.UUID, job_ids: Sequence[uuid.UUID]) -> None:
        """Removes the rows of a submit whose messages could not all be queued: nothing is left
        waiting for a message that never comes. A message already put finds its row gone."""
        with self.db.session() as session:
            session.execute(delete(Job).where(Job.id.in_(job_ids), Job.workspace_id == workspace_id,
                                              Job.status == JobStatus.PENDING))

    def get(self, workspace_id: uuid.UUID, job_id: uuid.UUID | str) -> Job:
        with self.db.session() as session:
            return Repository(session, workspace_id).get(Job, job_id)

    def list(self, workspace_id: uuid.UUID, *, status: str | None = None,
             limit: int = 500) -> Sequence[Job]:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"Unknown status '{status}'; one of {', '.join(STATUSES)}.")
        with self.db.session() as session:
            query = select(Job).where(Job.workspace_id == workspace_id)
            if status:
                query = query.where(Job.status == status)
            return session.scalars(query.order_by(Job.created_at.desc()).limit(limit)).all()

    def changed_since(self, workspace_id: uuid.UUID, since: datetime | None) -> Sequence[Job]:
        with self.db.session() as session:
            query = select(Job).where(Job.workspace_id == workspace_id)
            if since is not None:
                query = query.where(Job.updated_at >= since)
            return session.scalars(query.order_by(Job.created_at.desc()).limit(1000)).all()

    def active_count(self, workspace_id: uuid.UUID | None = None) -> int:
        with self.db.session() as session:
            query = select(Job.id).where(Job.status.in_(ACTIVE))
            if workspace_id is not None:
                query = query.where(Job.workspace_id == workspace_id)
            return len(session.scalars(query).all())

    def cancel(self, workspace_id: uuid.UUID, job_id: uuid.UUID | str) -> Job:
        """A waiting job is canceled at once; a running one is asked to stop and stops soon.

        Each is one conditional UPDATE, so a worker writing the row at the same moment (its
        progress) can neither make the cancel fail nor be overwritten by it."""
        job = self.get(workspace_id, job_id)  # not found and other workspaces: one message
        mine = (Job.id == job.id) & (Job.workspace_id == workspace_id)
        with self.db.session() as session:
            waiting = rows_changed(session.execute(update(Job).where(mine, Job.status == JobStatus.PENDING).values(
                status=JobStatus.CANCELED, finished_at=utcnow(), message="Canceled before it started.",
                next_attempt_at=None, version=Job.version + 1, updated_at=utcnow())))
            running = 0 if waiting else rows_changed(session.execute(
                update(Job).where(mine, Job.status == JobStatus.PROCESSING).values(
                    cancel_requested=True, message="Canceling…", version=Job.version + 1,
                    updated_at=utcnow())))
        if waiting:
            record_job_finished(self.db, job.id)  # job.canceled, for webhooks
        if waiting and job.task_id:
            self.queues.revoke(job.queue, job.task_id)
        done = self.get(workspace_id, job.id)
        if not (waiting or running):
            raise InvalidInput(f"Job {done.id} is already {done.status}.")
        return done

    def _message_lost(self, job: Job) -> bool:
        """Reads the queue: with its server down, one plain line rather than Redis' own error."""
        try:
            return message_lost(self.queues, job)
        except RedisError as exc:
            raise queue_unreachable(self.queues.settings, exc) from None

    def retry(self, workspace_id: uuid.UUID, job_id: uuid.UUID | str) -> Job:
        with self.db.session() as session:
            job = Repository(session, workspace_id).get(Job, job_id)
            if job.status not in (JobStatus.FAILED, JobStatus.CANCELED) and not self._message_lost(job):
                raise InvalidInput(f"Only failed or canceled jobs, or waiting ones whose queue message "
                                   f"was lost, can be retried; job {job.id} is {job.status}.")
            before = {name: getattr(job, name) for name in _RETRY_RESETS}
            job.status = JobStatus.PENDING
            job.error = ""
            job.message = "Queued again."
            job.progress = 0.0
            job.stage = ""
            job.cancel_requested = False
            job.started_at = None
            job.finished_at = None
            job.next_attempt_at = None
            job.attempts = 0
            task = self.queues.task(job.queue, str(job.id), priority=job.priority)
            job.task_id = str(task.id)
        try:
            self.queues.put(job.queue, task)
        except QueueUnavailable:  # the job stays as it was: nothing waits for a message
            with self.db.session() as session:
                session.execute(update(Job).where(Job.id == job.id, Job.workspace_id == workspace_id)
                                .values(**before, version=Job.version + 1, updated_at=utcnow()))
            raise
        return self.get(workspace_id, job.id)
