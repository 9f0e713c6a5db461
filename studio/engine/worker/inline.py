"""Runs one job inside the current process, for a command that waits on a job when no worker is up.

It registers itself and beats like a worker, so recovery elsewhere leaves its job alone, and
waits as long as the runner asks (its RetryTask: 5 s, 25 s, 125 s) before another attempt.
The job's queue entry is not revoked: a worker that dequeues it later runs it only if it is still
pending (the claim is one versioned row update), which is what is wanted when this process was
killed before it claimed the job or while it waited to retry; a job this process was running
when it was killed is settled by the recovery (jobs/recovery.py), not run twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from huey.exceptions import RetryTask

from studio import __version__
from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.recovery import REQUEUED, Recovered, recover_job
from studio.engine.jobs.registry import load_handlers
from studio.engine.jobs.status import FINISHED, JobStatus
from studio.engine.webhooks.outbox import record_job_finished
from studio.engine.worker.process import make_runner

log = logging.getLogger("studio.jobs")
STOP_GRACE_S = 10.0


class InlineConsumer:
    """Runs one job on a thread of this process, trying again when the runner asks to."""

    def __init__(self, studio: Studio, job: Job) -> None:
        self.studio = studio
        self.job = job
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:cli-{uuid.uuid4().hex[:8]}"
        self.runner = make_runner(studio, self.worker_id)
        self._stop = threading.Event()
        self._released = False
        self._thread = threading.Thread(target=self._run, name="cli-consumer", daemon=True)
        self._beat = threading.Thread(target=self._heartbeat, name="cli-heartbeat", daemon=True)

    def start(self) -> None:
        load_handlers()
        with self.studio.db.session() as session:
            session.add(WorkerRecord(id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
                                     queues=[self.job.queue], app_version=__version__))
        self._beat.start()
        self._thread.start()

    def force_cancel(self) -> None:
        with self.studio.db.session() as session:
            job = session.get(Job, self.job.id)
            ending = job is not None and job.status not in FINISHED
            if job is not None and ending:
                job.status = JobStatus.CANCELED
                job.message = "Canceled by the user."
                job.finished_at = utcnow()
                job.cancel_requested = False
        if ending:
            record_job_finished(self.studio.db, self.job.id)  # job.canceled, for webhooks

    def release(self) -> Recovered | None:
        """This process is leaving (SIGTERM) while the job may still run here: it is settled
        now, as recovery would settle it after this process died, so that the next worker
        takes it at once. Asked to cancel, it ends canceled; otherwise a safe job waits again
        (its queue message is still there, or is sent again) and a paid one is abandoned."""
        self._stop.set()
        self._released = True  # the handler's thread is not waited for: it dies with us
        self._mark_stopped()
        job = self._canceled_if_asked()
        if job is not None and job.status == JobStatus.CANCELED:
            record_job_finished(self.studio.db, job.id)  # job.canceled, for webhooks
        if job is None or job.status != JobStatus.PROCESSING or job.worker_id != self.worker_id:
            return None
        timeout = self.studio.settings.worker.heartbeat_timeout_s
        recovered = recover_job(self.studio.db, self.studio.queues, self.job.id, timeout_s=timeout)
        if recovered is not None and recovered.action == REQUEUED:
            log.info("job %s released: it waits for the next worker", self.job.id)
        return recovered

    def _canceled_if_asked(self) -> Job | None:
        """The job's row; a job the user asked to cancel ends canceled here."""
        with self.studio.db.session() as session:
            job = session.get(Job, self.job.id)
            if (job is not None and job.status == JobStatus.PROCESSING and job.cancel_requested
                    and job.worker_id == self.worker_id):
                job.status, job.finished_at = JobStatus.CANCELED, utcnow()
                job.worker_id, job.cancel_requested = None, False
                job.message = "Canceled by the user."
            return job

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and not self._released:  # Ctrl-C can come before start()
            self._thread.join(timeout=STOP_GRACE_S)
        if self._beat.is_alive():
            self._beat.join(timeout=5)
        self._mark_stopped()

    def _mark_stopped(self) -> None:
        with self.studio.db.session() as session:
            record = session.get(WorkerRecord, self.worker_id)
            if record is not None and record.stopped_at is None:
                record.stopped_at = utcnow()

    def _run(self) -> None:
        try:
            self._attempts()
        finally:
            self.runner.close()  # the connection this thread wrote the job's row with

    def _attempts(self) -> None:
        while True:  # the runner counts the attempts and stops asking for more
            try:
                self.runner(str(self.job.id))
                return
            except RetryTask as retry:
                if self._stop.wait(retry.delay or 0):
                    return
            except Exception:  # the runner records handler errors; this is a last resort
                log.exception("inline job %s could not run", self.job.id)
                return

    def _heartbeat(self) -> None:
        interval = self.studio.settings.worker.heartbeat_interval_s
        while not self._stop.wait(interval):
            with self.studio.db.session() as session:
                record = session.get(WorkerRecord, self.worker_id)
                if record is not None:
                    record.heartbeat_at = utcnow()
