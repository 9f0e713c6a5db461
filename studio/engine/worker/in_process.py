"""Running a waited-for job in this process when no worker will take it (Decision 5).

A caller that waits on a job (a CLI verb, a script) starts an ``InlineConsumer`` for it when no
worker serves its queue (worker/watch.py decides), and for the step jobs it queues (a
pipeline's), so nothing waits on a worker that does not exist.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.recovery import Recovered
from studio.engine.jobs.status import JobStatus
from studio.engine.worker.inline import InlineConsumer


def fresh_workers(studio: Studio) -> list[WorkerRecord]:
    """Workers of any host whose heartbeat is recent and that have not stopped."""
    since = utcnow() - timedelta(seconds=studio.settings.worker.heartbeat_timeout_s)
    with studio.db.session() as session:
        query = select(WorkerRecord).where(WorkerRecord.stopped_at.is_(None),
                                           WorkerRecord.heartbeat_at > since)
        return list(session.scalars(query).all())


class InProcess:
    """One waited-for job and its step jobs, run on threads here while no worker is up."""

    def __init__(self, studio: Studio, *, job_id: uuid.UUID) -> None:
        self.studio = studio
        self.job_id = job_id
        self.consumer: InlineConsumer | None = None
        self._steps: dict[uuid.UUID, InlineConsumer] = {}

    @property
    def running(self) -> bool:
        return self.consumer is not None

    @property
    def worker_id(self) -> str | None:
        return self.consumer.worker_id if self.consumer is not None else None

    def start(self, job: Job) -> None:
        """Runs the job here from now on (once; a pending job only)."""
        if self.consumer is None and job.status == JobStatus.PENDING:
            self.consumer = InlineConsumer(self.studio, job)
            self.consumer.start()
            self._run_steps()

    def tend(self) -> None:
        """Called on each look while the job runs here: starts the step jobs it queued."""
        if self.consumer is not None:
            self._run_steps()

    def force_cancel(self) -> None:
        """For a handler that never checks for cancel: this process is leaving, the job ends."""
        if self.consumer is not None:
            self.consumer.force_cancel()

    def release(self) -> list[Recovered]:
        """This process is leaving (SIGTERM): the jobs running here are settled at once, so
        none is left "processing" for a worker to find only after the heartbeat timeout."""
        consumers = [*self._steps.values(), *([self.consumer] if self.consumer is not None else [])]
        return [found for c in consumers if (found := c.release()) is not None]

    def close(self) -> None:
        for step in self._steps.values():
            step.close()
        if self.consumer is not None:
            self.consumer.close()

    def _run_steps(self) -> None:
        with self.studio.db.session() as session:
            waiting = session.scalars(select(Job).where(Job.parent_id == self.job_id,
                                                        Job.status == JobStatus.PENDING)).all()
        for step in waiting:
            if step.id not in self._steps:
                self._steps[step.id] = InlineConsumer(self.studio, step)
                self._steps[step.id].start()
