"""Runs one job inside a worker: marks it processing, calls its handler, records the outcome.

A transient fault (a refused connection, a timeout, HTTP 429/5xx) is tried again after 5 s, 25 s
and 125 s, counted by the job's own attempts. The next attempt is asked of Huey with its
documented ``RetryTask`` (delay given), so an expected fault is one warning line in the log, not
an error with a traceback; while the job waits, its stage says so.
"""
from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from huey.exceptions import RetryTask

from studio.engine.config import Paths, Settings, load_settings
from studio.engine.db.database import Database, retry_if_stale
from studio.engine.db.models import Job
from studio.engine.db.types import utcnow
from studio.engine.disk_errors import disk_error
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.fsutil import FileStamp
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled, JobFailed, TransientError
from studio.engine.jobs.gpu import hold_gpu
from studio.engine.jobs.job_rows import RETRY_STAGE, Claimed, claim, job_exists, record_outcome
from studio.engine.jobs.outage import outage_of, ride_out
from studio.engine.jobs.ownership import Claim, discard, sees_every_workspace, still_owned
from studio.engine.jobs.payloads import decode, encode
from studio.engine.jobs.queues import RETRY_BACKOFF, RETRY_DELAY_S
from studio.engine.jobs.registry import JobType, get_type
from studio.engine.jobs.row_connections import RowConnections
from studio.engine.jobs.status import FINISHED, JobStatus
from studio.engine.webhooks.outbox import record_job_finished

log = logging.getLogger("studio.jobs")
__all__ = ["RETRY_STAGE", "JobRunner", "retry_delay_s"]
_DEFAULT_MESSAGES = {JobStatus.COMPLETED: "Done.", JobStatus.FAILED: "Failed."}
PUT_BACK_DELAY_S = 5.0  # a job another workspace's worker must run waits this long between looks


def retry_delay_s(attempts: int) -> float:
    """The wait after the ``attempts``-th attempt failed on a transient fault: 5 s, 25 s, 125 s."""
    return float(RETRY_DELAY_S * RETRY_BACKOFF ** max(attempts - 1, 0))


class TeamFiles(Protocol):
    """Where a job's files travel between machines in team mode (server/assets.py has it)."""

    def fetch_inputs(self, payload: object) -> None: ...

    def upload_outputs(self, job_id: uuid.UUID, payload: object, result: object) -> None: ...


TeamFilesFactory = Callable[[Settings, Paths, Database], "TeamFiles | None"]


class JobRunner:
    def __init__(self, db: Database, paths: Paths, settings: Settings, worker_id: str, *,
                 team_files: TeamFilesFactory | None = None) -> None:
        self.db = db
        self.team_files = team_files  # given by the worker: the server's bucket sits above jobs
        self.paths = paths
        self.settings = settings
        self.worker_id = worker_id
        self._sees_all: bool | None = None  # whether row-level security hides no job from it
        self._settings_file = paths.settings_file  # looked at before every job
        self._settings_stamp = FileStamp.of(self._settings_file)
        self.rows = RowConnections(db)  # each worker thread's claims and outcomes: one connection

    def close(self) -> None:
        """Closes the connections the worker threads held (a later job opens its own)."""
        self.rows.close()

    def _reload_settings_if_changed(self) -> None:
        """A URL or option changed in the app or the CLI counts from the next job on."""
        stamp = FileStamp.of(self._settings_file)
        if stamp != self._settings_stamp:
            self._settings_stamp = stamp
            self.settings = load_settings(self._settings_file)

    def __call__(self, job_id: str, task: object = None) -> None:
        self._reload_settings_if_changed()
        task_id = getattr(task, "id", None)  # the queue message's: see job_rows.claim
        started = ride_out(lambda: self._start(job_id, task_id))
        if started is None:
            return
        ctx, claimed = started
        prepared = self._prepare(ctx, claimed)
        if prepared is None:
            return
        kind, payload = prepared
        held = claimed.claim
        try:
            result, stored = self._run_handler(kind, ctx, payload)
        except JobCanceled as exc:
            self._finish(held, JobStatus.CANCELED, message=str(exc))
        except TransientError as exc:
            self._after_transient_error(held, exc)
        except StudioError as exc:
            self._finish(held, JobStatus.FAILED, error=str(exc))
        except Exception as exc:  # a bug in a handler still ends the job with a readable line
            self._after_crash(held, exc)
        else:
            self._complete(held, payload, result, stored)

    def _after_crash(self, claim: Claim, exc: Exception) -> None:
        if outage_of(exc) is not None:  # the database or Redis went away under the handler
            self._after_transient_error(claim, TransientError(f"The {outage_of(exc)} could not be "
                                                              f"reached: {type(exc).__name__}"))
            return
        disk = disk_error(exc, self.paths.data_dir)  # a full or read-only disk is no bug
        if disk is None:
            log.error("job %s crashed", claim.job_id, extra={"fields": {"trace": traceback.format_exc()}})
        error = str(disk) if disk is not None else f"Unexpected error: {type(exc).__name__}: {exc}"
        self._finish(claim, JobStatus.FAILED, error=error)

    def _complete(self, claim: Claim, payload: object, result: object, stored: dict[str, object]) -> None:
        """Uploads the outputs (team mode) and records them, unless another worker took the job
        over: the outcome's write is conditional on the claim, so solo mode reads nothing first."""
        team = self._team()
        if team is not None:
            if not ride_out(lambda: still_owned(self.db, claim)):  # spares a useless upload
                ride_out(lambda: discard(self.db, self.paths, claim, "result", stored))
                return
            try:
                team.upload_outputs(claim.job_id, payload, result)
            except StudioError as exc:
                self._finish(claim, JobStatus.FAILED, error=f"The outputs could not be uploaded: {exc}")
                return
        self._finish(claim, JobStatus.COMPLETED, result=stored, what="result")

    def _prepare(self, ctx: JobContext, claimed: Claimed) -> tuple[JobType, object] | None:
        """The job's type and payload, its input files fetched; None when the job failed here."""
        try:
            kind = get_type(claimed.job_type)
            payload: object = decode(kind.payload, ctx.payload)
        except StudioError as exc:  # a row this studio cannot read: one line, no retry
            self._finish(claimed.claim, JobStatus.FAILED, error=str(exc))
            return None
        team = self._team()
        try:
            if team is not None:
                team.fetch_inputs(payload)
        except StudioError as exc:
            self._finish(claimed.claim, JobStatus.FAILED, error=f"The inputs could not be fetched: {exc}")
            return None
        return kind, payload

    def _run_handler(self, kind: JobType, ctx: JobContext,
                     payload: object) -> tuple[object, dict[str, object]]:
        """The handler's result and its encoded form for the job row."""
        if kind.uses_gpu:
            with hold_gpu(ctx):  # training: waits, visibly and cancelably, for the GPU
                result = kind.handler(ctx, payload)
        else:
            result = kind.handler(ctx, payload)
        return result, self._encoded(kind, result)

    def _after_transient_error(self, claim: Claim, exc: TransientError) -> None:
        """Raises Huey's RetryTask (the inline consumer reads it too) while the job has attempts
        left; otherwise the job fails."""
        attempts, allowed = ride_out(lambda: self._attempts(claim.job_id))
        if attempts < allowed:
            delay = max(retry_delay_s(attempts), exc.retry_after or 0.0)
            scheduled = ride_out(lambda: retry_if_stale(
                lambda: self._schedule_retry(claim, str(exc), delay, attempts=attempts, allowed=allowed)))
            if scheduled is None:
                ride_out(lambda: discard(self.db, self.paths, claim, "retry"))
                return
            if scheduled:
                log.warning("job %s attempt %d of %d failed, will retry in %g s: %s", claim.job_id,
                            attempts, allowed, delay, exc)
                raise RetryTask(str(exc), delay=delay) from None
            self._finish(claim, JobStatus.CANCELED, message="Canceled by the user.")
            return
        self._finish(claim, JobStatus.FAILED, error=f"{exc} (gave up after {attempts} attempts)")

    @staticmethod
    def _encoded(kind: JobType, result: object) -> dict[str, object]:
        if type(result) is not kind.result:
            raise JobFailed(f"The {kind.name} handler returned a {type(result).__name__}, not a "
                            f"{kind.result.__name__}.")
        return encode(result)

    def _team(self) -> TeamFiles | None:
        """Team mode: the asset files the payload names come from the shared bucket when this
        machine lacks them, and the job's files go there before it counts as done. Files are
        named by asset key, so each machine reads them in its own asset folder. None in solo
        mode, or in a studio that only syncs: files stay local."""
        return self.team_files(self.settings, self.paths, self.db) if self.team_files else None

    def _start(self, job_id: str, task_id: str | None) -> tuple[JobContext, Claimed] | None:
        """Claims the job in one write (with worker_id, its bumped attempts are the claim's
        token: jobs/ownership.py) that also reads back what the run needs."""
        claimed = claim(self.db, uuid.UUID(job_id), self.worker_id, self.rows, task_id=task_id)
        if claimed is None:
            if not job_exists(self.db, uuid.UUID(job_id)):
                self._not_found(job_id)
            return None  # canceled while waiting, handled by recovery, or a replaced message
        ctx = JobContext(job_id=claimed.claim.job_id, workspace_id=claimed.workspace_id,
                         payload=claimed.payload, db=self.db, paths=self.paths,
                         settings=self.settings, claim=claimed.claim)
        return ctx, claimed

    def _not_found(self, job_id: str) -> None:
        """A job this worker cannot read. Under a workspace role (row-level security) it is most
        likely another workspace's: its message goes back to the queue, after a pause so that
        this worker does not spin on it, for a worker that can run it."""
        if self._sees_all is None:
            self._sees_all = sees_every_workspace(self.db)
        if self._sees_all:
            log.warning("job %s vanished before it ran", job_id)
            return
        log.debug("job %s is not this workspace's; put back for another worker", job_id)
        raise RetryTask("not this worker's workspace", delay=PUT_BACK_DELAY_S)

    def _attempts(self, job_id: uuid.UUID) -> tuple[int, int]:
        """The attempts made so far and how many the job may make."""
        with self.db.session() as session:
            job = session.get(Job, job_id)
            return (job.attempts, job.max_attempts) if job else (0, 0)

    def _schedule_retry(self, claim: Claim, reason: str, delay_s: float, *, attempts: int,
                        allowed: int) -> bool | None:
        """The job waits for its next attempt, and its stage says so (until ``_start``); False
        when it is gone or the user asked to cancel it meanwhile, None when another worker owns
        it now."""
        with self.db.session() as session:
            job = session.get(Job, claim.job_id)
            if job is not None and not claim.holds(job):
                return None
            if job is None or job.cancel_requested:
                return False
            job.status = JobStatus.PENDING
            job.worker_id = None
            job.error = reason
            job.next_attempt_at = utcnow() + timedelta(seconds=delay_s)
            job.stage = RETRY_STAGE
            job.message = f"Will retry in {delay_s:g} s (attempt {attempts + 1} of {allowed}): {reason}"
            return True

    def _finish(self, claim: Claim, status: JobStatus, *, error: str = "", message: str = "",
                result: dict[str, object] | None = None, what: str = "") -> None:
        """Records the outcome in one write conditional on the claim (a cancel clicked meanwhile
        cannot make it stale), waiting out a database outage; a claim another worker took over
        meanwhile records nothing (ownership.discard says so of its ``what``)."""
        if status not in FINISHED:
            raise InvalidInput(status)
        text = message or _DEFAULT_MESSAGES.get(status, "")
        if not ride_out(lambda: record_outcome(self.db, claim, status, error=error, message=text,
                                               result=result, rows=self.rows)):
            ride_out(lambda: discard(self.db, self.paths, claim, what or f"outcome ({status})", result))
            return
        log.info("job %s %s", claim.job_id, status, extra={"fields": {"error": error}})
        record_job_finished(self.db, claim.job_id, self.paths.data_dir)  # for webhooks, if any
