"""What a caller waiting on a job is waiting for, in words, and when it stops waiting on others.

Each look at the waited-for job (a few times a second) may give lines to show and may act:

- pending, and no worker with a fresh heartbeat serves its queue (none started, one started
  with other ``--queues``, or one whose heartbeat went stale): say so at once and run the job in
  this process (Decision 5);
- pending while a live worker serves the queue: after ``TELL_AFTER_S`` say which worker it
  waits for and how many jobs are ahead;
- processing by a worker that has gone quiet or died: say when it was last seen and recover
  the job here (re-queued and then run here, or abandoned), since no worker may be left to.

The clock is injectable so tests can check what is said by when without sleeping.
"""
from __future__ import annotations

import time
import uuid
from typing import Protocol

from sqlalchemy import func, select

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.jobs.recovery import ABANDONED, FAILED, recover_job
from studio.engine.jobs.status import ACTIVE, JobStatus
from studio.engine.worker.in_process import InProcess
from studio.engine.worker.process import local_worker
from studio.engine.worker.serving import QueueServing, SeenWorker, owner, who_serves

TELL_AFTER_S = 3.0  # a live worker normally takes a job within a second
STARTING_GRACE_S = 15.0  # a worker registers within seconds of taking its lock


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class JobWatch:
    """Follows one waited-for job; ``look`` is called with each fresh read of its row."""

    def __init__(self, studio: Studio, here: InProcess, clock: Clock) -> None:
        self.studio = studio
        self.here = here
        self.clock = clock
        self._since = clock.monotonic()
        self._told: set[str] = set()

    def look(self, job: Job) -> list[str]:
        if self.here.running:
            self.here.tend()
            return []
        if job.status == JobStatus.PENDING:
            return self._pending(job)
        if job.status == JobStatus.PROCESSING:
            return self._processing(job)
        return []

    def _pending(self, job: Job) -> list[str]:
        serving = who_serves(self.studio, job.queue, job.workspace_id)
        if not serving.served and self._local_worker_starting():
            return self._once("waiting for the worker starting on this machine")
        if not serving.served:
            self.here.start(job)
            return [f"{why_not_served(serving)}; running the job in this process"]
        if self.clock.monotonic() - self._since < TELL_AFTER_S:
            return []
        ahead = jobs_ahead(self.studio, job)
        names = ", ".join(w.label for w in serving.fresh)
        line = (f"waiting for the worker on {names} to take it from queue '{job.queue}'"
                + (f" ({ahead} job(s) ahead)" if ahead else ""))
        return self._once(line)

    def _processing(self, job: Job) -> list[str]:
        worker = owner(self.studio, job.worker_id)
        if worker is not None and worker.fresh:
            return []
        who = worker.label if worker else "its worker"
        seen = f", {worker.last_seen}" if worker else ""
        lines = [f"the worker running it ({who}{seen}) has stopped answering; taking the job back"]
        recovered = recover_job(self.studio.db, self.studio.queues, job.id,
                                timeout_s=self.studio.settings.worker.heartbeat_timeout_s)
        if recovered is None:  # fresh again, or recovered elsewhere a moment ago
            return []
        if recovered.action in (FAILED, ABANDONED):
            lines.append("it is not run again: see the error below")
        return lines

    def _local_worker_starting(self) -> bool:
        """This machine's worker holds its lock but has not registered yet (it loads the job
        handlers first): for a short while it is taken to be on its way."""
        if self.clock.monotonic() - self._since >= STARTING_GRACE_S:
            return False
        local = local_worker(self.studio.paths)
        if local is None:
            return False
        if not local.worker_id:
            return True
        with self.studio.db.session() as session:
            return session.get(WorkerRecord, local.worker_id) is None

    def _once(self, line: str) -> list[str]:
        if line in self._told:
            return []
        self._told.add(line)
        return [line]


def why_not_served(serving: QueueServing) -> str:
    """One line: why no worker will take a job of this queue."""
    queue = serving.queue
    if serving.quiet:
        quiet: SeenWorker = serving.quiet[0]
        return f"the worker for queue '{queue}' on {quiet.label} is not answering ({quiet.last_seen})"
    if serving.elsewhere:
        others = "; ".join(f"{w.label} serves {', '.join(w.queues)}" for w in serving.elsewhere)
        return f"waiting for a worker on queue '{queue}' — none is serving it ({others})"
    return f"waiting for a worker on queue '{queue}' — none is serving it"


def jobs_ahead(studio: Studio, job: Job) -> int:
    """Jobs of the same queue that are running or were queued before this one."""
    with studio.db.session() as session:
        return int(session.scalar(select(func.count(Job.id)).where(
            Job.queue == job.queue, Job.status.in_(ACTIVE), Job.id != job.id,
            Job.created_at <= job.created_at)) or 0)


def new_watch(studio: Studio, job_id: uuid.UUID, clock: Clock | None = None) -> JobWatch:
    return JobWatch(studio, InProcess(studio, job_id=job_id), clock or SystemClock())
