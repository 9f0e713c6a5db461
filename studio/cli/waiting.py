"""Waiting for a job the command line created (Decision 5).

Progress goes to stderr. What the wait is for is said within seconds (worker/watch.py): when no
live worker serves the job's queue, the job runs in this process (the engine's ``InProcess``: a
temporary consumer that registers itself and beats like a worker, so recovery elsewhere leaves
it alone while this process lives); a worker that stops answering mid-job has the job taken
back. Ctrl-C cancels the job waited for.
"""
from __future__ import annotations

import argparse
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_CANCELED, EXIT_FAILED, EXIT_OK
from studio.cli.output import fields_of, note, print_json, say
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import ACTIVE, FINISHED, JobStatus

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.db.models import Job
    from studio.engine.worker.in_process import InProcess
    from studio.engine.worker.watch import Clock, JobWatch

POLL_S = 0.2
CANCEL_GRACE_S = 10.0


def finish(studio: Studio, args: argparse.Namespace, job: Job, *, wait: bool) -> int:
    """The end of every verb that creates a job: print its id, or wait for it and report."""
    if not wait:
        if args.json:
            print_json(job_summary(job))
        else:
            print(job.id)
        return EXIT_OK
    done = wait_for_job(studio, job.workspace_id, job.id)
    if args.json:
        print_json(job_summary(done))
    elif done.status == JobStatus.COMPLETED:
        say(f"job {done.id} completed: {done.title}")
    return exit_code(done)


JOB_FIELDS = ("id", "type", "queue", "status", "title", "progress", "stage", "message", "error",
              "attempts", "max_attempts", "cost_usd", "priority", "worker_id", "created_at",
              "started_at", "finished_at", "payload", "result")


def job_summary(job: Job) -> dict[str, object]:
    return fields_of(job, JOB_FIELDS)


def exit_code(job: Job) -> int:
    if job.status == JobStatus.COMPLETED:
        return EXIT_OK
    if job.status == JobStatus.CANCELED:
        note(f"canceled: {job.message or job.title}")
        return EXIT_CANCELED
    if job.status in ACTIVE:  # only after Ctrl-C: the worker has been asked to stop it
        note(f"cancel requested; the worker stops job {job.id} soon")
        return EXIT_CANCELED
    note(f"error: job {job.id} {job.status}: {job.error or job.message or 'no reason given'}")
    return EXIT_FAILED


class Terminated(BaseException):
    """SIGTERM or SIGHUP while waiting (a logout, a closed terminal, ``kill``): like Ctrl-C, not
    an error any ``except Exception`` should swallow."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _termination_raises() -> Iterator[None]:
    """In the main thread (where signal handlers live), SIGTERM and SIGHUP raise Terminated."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    caught = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {signum: signal.signal(signum, raise_terminated) for signum in caught}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait_for_job(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID, *,
                 clock: Clock | None = None) -> Job:
    """Follows the job to its end. Ctrl-C cancels it; SIGTERM/SIGHUP (or a second Ctrl-C) end
    the wait and release what runs in this process, so no job is left "processing" by a
    process that is gone (exit code 128 + the signal's number)."""
    from studio.engine.worker.watch import SystemClock, new_watch
    clock = clock or SystemClock()
    watch = new_watch(studio, job_id, clock)
    try:
        with _termination_raises():
            try:
                return _follow(studio, workspace_id, job_id, watch, clock)
            except KeyboardInterrupt:
                return _cancel(studio, workspace_id, job_id, watch.here, clock)
    except (Terminated, KeyboardInterrupt) as stop:
        _release(watch.here, job_id)
        if isinstance(stop, Terminated):
            raise SystemExit(128 + stop.signum) from None
        raise
    finally:
        watch.here.close()


def _follow(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID, watch: JobWatch,
            clock: Clock) -> Job:
    shown = ""
    while True:
        job = studio.jobs.get(workspace_id, job_id)
        shown = _show_progress(job, shown)
        if job.status in FINISHED:
            return job
        for line in watch.look(job):
            note(line)
        clock.sleep(POLL_S)


def _release(here: InProcess, job_id: uuid.UUID) -> None:
    """Says what became of the jobs this process ran when it stopped waiting."""
    from studio.engine.jobs.recovery import ABANDONED, REQUEUED
    if not here.running:
        note(f"stopped waiting; job {job_id} stays queued for the worker")
        return
    released = here.release()
    if not released:
        note(f"stopped waiting for job {job_id}")
    for found in released:
        if found.action == REQUEUED:
            note(f"stopped: job {found.job_id} is back in the queue; the next worker runs it at once")
        elif found.action == ABANDONED:
            note(f"stopped: job {found.job_id} was abandoned (it may already have paid for calls); "
                 f"`jobs retry {found.job_id}` runs it again")
        else:
            note(f"stopped: job {found.job_id} failed (no attempts left)")


def _cancel(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID, here: InProcess,
            clock: Clock) -> Job:
    note("canceling the job (Ctrl-C again to stop waiting)…")
    try:
        studio.jobs.cancel(workspace_id, job_id)
    except InvalidInput:
        pass  # it finished in the meantime
    deadline = clock.monotonic() + CANCEL_GRACE_S
    job = studio.jobs.get(workspace_id, job_id)
    while job.status not in FINISHED and clock.monotonic() < deadline:
        clock.sleep(POLL_S)
        job = studio.jobs.get(workspace_id, job_id)
    if job.status not in FINISHED and here.running:
        here.force_cancel()
        job = studio.jobs.get(workspace_id, job_id)
    return job


def _show_progress(job: Job, shown: str) -> str:
    from studio.engine.jobs.snapshot import activity
    line = f"{job.status:<10} {job.progress * 100:5.1f}%  " + (
        activity(job.stage or job.title, job.message, separator=": "))
    if line != shown:
        note(line)
    return line
