"""Waiting for a job the command line created (Decision 5).

Progress goes to stderr. What the wait is for is said within seconds (worker/watch.py): when no
live worker serves the job's queue, the job runs in this process (the engine's ``InProcess``: a
temporary consumer that registers itself and beats like a worker, so recovery elsewhere leaves
it alone while this process lives); a worker that stops answering mid-job has the job taken
back. Ctrl-C cancels the job waited for.
"""
from __future__ import annotations

import argparse
import uuid

from studio.cli.common import EXIT_CANCELED, EXIT_FAILED, EXIT_OK
from studio.cli.output import fields_of, note, print_json, say
from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.snapshot import activity
from studio.engine.jobs.status import ACTIVE, FINISHED, JobStatus
from studio.engine.worker.in_process import InProcess
from studio.engine.worker.watch import Clock, SystemClock, new_watch

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


def wait_for_job(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID, *,
                 clock: Clock | None = None) -> Job:
    clock = clock or SystemClock()
    watch = new_watch(studio, job_id, clock)
    shown = ""
    try:
        while True:
            job = studio.jobs.get(workspace_id, job_id)
            shown = _show_progress(job, shown)
            if job.status in FINISHED:
                return job
            for line in watch.look(job):
                note(line)
            clock.sleep(POLL_S)
    except KeyboardInterrupt:
        return _cancel(studio, workspace_id, job_id, watch.here, clock)
    finally:
        watch.here.close()


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
    line = f"{job.status:<10} {job.progress * 100:5.1f}%  " + (
        activity(job.stage or job.title, job.message, separator=": "))
    if line != shown:
        note(line)
    return line
