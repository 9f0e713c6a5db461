"""The runner's outcomes: done, failed at once, retried with 5/25/125 s back-off, canceled, crashed."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.db.types import utcnow
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled, JobFailed, TransientError
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.runner import RETRY_STAGE, JobRunner
from studio.engine.jobs.status import JobStatus

calls: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class Answer:
    answer: int


@job_type("test-transient", queue="general", payload=Empty, result=Empty)
def _transient(ctx: JobContext, payload: Empty) -> Empty:
    calls["transient"] = calls.get("transient", 0) + 1
    raise TransientError("Connection refused by ComfyUI (the test's stand-in fault)")


@job_type("test-flaky", queue="general", payload=Empty, result=Empty)
def _flaky(ctx: JobContext, payload: Empty) -> Empty:
    """Fails its first attempt on a transient fault; the second records the stage it started with."""
    with ctx.db.session() as session:
        job = session.get(Job, ctx.job_id)
        assert job is not None
        if job.attempts == 1:
            raise TransientError("ComfyUI cannot be reached at 127.0.0.1:1")
        calls["stage at the retry"] = job.stage  # type: ignore[assignment]
    return Empty()


@job_type("test-canceled-then-transient", queue="general", payload=Empty, result=Empty)
def _canceled_then_transient(ctx: JobContext, payload: Empty) -> Empty:
    with ctx.db.session() as session:
        job = session.get(Job, ctx.job_id)
        assert job is not None
        job.cancel_requested = True  # the user clicked Cancel while the fault happened
    raise TransientError("Connection refused by ComfyUI at 127.0.0.1:1")


@job_type("test-invalid", queue="general", payload=Empty, result=Empty)
def _invalid(ctx: JobContext, payload: Empty) -> Empty:
    raise JobFailed("The checkpoint 'x.safetensors' is not installed in ComfyUI.")


@job_type("test-bug", queue="general", payload=Empty, result=Empty)
def _bug(ctx: JobContext, payload: Empty) -> Empty:
    return {"a": 1}["b"]  # type: ignore[return-value]


@job_type("test-cancel", queue="general", payload=Empty, result=Empty)
def _cancel(ctx: JobContext, payload: Empty) -> Empty:
    raise JobCanceled("Canceled by the user.")


@job_type("test-ok", queue="general", payload=Empty, result=Answer)
def _ok(ctx: JobContext, payload: Empty) -> Answer:
    ctx.progress(0.5, stage="half", message="halfway")
    return Answer(answer=42)


@job_type("test-counted", queue="general", payload=Empty, result=Empty)
def _counted(ctx: JobContext, payload: Empty) -> Empty:
    calls["ok"] = calls.get("ok", 0) + 1
    return Empty()


@pytest.fixture
def runner(studio: Studio) -> JobRunner:
    run = JobRunner(studio.db, studio.paths, studio.settings, worker_id="test-worker")
    studio.queues.set_runner(run)
    return run


def _execute_next(studio: Studio) -> Any:
    """Runs the next queued task of the general queue in this process, as a consumer would."""
    huey = studio.queues.hueys["general"]
    task = huey.dequeue()
    assert task is not None
    huey.execute(task)
    return task


def test_transient_errors_retry_with_5_25_125_second_backoff(studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "test-transient", Empty())
    huey = studio.queues.hueys["general"]
    task = huey.dequeue()
    delays = []
    for _ in range(4):
        before = utcnow()
        huey.execute(task, timestamp=task.eta)  # as the scheduler would, once the delay is over
        row = studio.jobs.get(ws.id, job.id)
        scheduled = huey.storage.read_schedule(before.replace(tzinfo=None) + timedelta(days=1))
        if not scheduled:
            break
        assert row.status == "pending" and "Will retry" in row.message
        assert row.next_attempt_at is not None
        delays.append(round((row.next_attempt_at - before).total_seconds()))
        task = huey.deserialize_task(scheduled[0])
    assert delays == [5, 25, 125]
    final = studio.jobs.get(ws.id, job.id)
    assert final.status == "failed" and final.attempts == 4
    assert "Connection refused" in final.error and "gave up after 4 attempts" in final.error


def test_permanent_errors_fail_at_once(studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "test-invalid", Empty())
    _execute_next(studio)
    row = studio.jobs.get(ws.id, job.id)
    assert row.status == "failed" and row.attempts == 1
    assert row.error == "The checkpoint 'x.safetensors' is not installed in ComfyUI."
    assert studio.queues.pending_count() == 0


def test_a_handler_bug_is_one_readable_line(studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "test-bug", Empty())
    _execute_next(studio)
    row = studio.jobs.get(ws.id, job.id)
    assert row.status == "failed" and row.error == "Unexpected error: KeyError: 'b'"


def test_cancel_and_success_are_recorded(studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    canceled = studio.jobs.submit(ws.id, "test-cancel", Empty())
    ok = studio.jobs.submit(ws.id, "test-ok", Empty())
    _execute_next(studio)
    _execute_next(studio)
    assert studio.jobs.get(ws.id, canceled.id).status == "canceled"
    done = studio.jobs.get(ws.id, ok.id)
    assert done.status == "completed" and done.result == {"answer": 42, "version": 1} and done.progress == 1.0
    assert done.stage == "half" and done.worker_id == "test-worker"


def test_a_job_canceled_while_waiting_never_runs(studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "test-ok", Empty())
    studio.jobs.cancel(ws.id, job.id)
    huey = studio.queues.hueys["general"]
    task = huey.dequeue()
    if task is not None:  # revoked tasks may still be dequeued; the runner must skip them
        huey.execute(task)
    row = studio.jobs.get(ws.id, job.id)
    assert row.status == "canceled" and row.attempts == 0


def test_a_message_replaced_by_a_retry_runs_nothing_and_the_new_one_runs_the_job_once(
        studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    calls.pop("ok", None)
    job = studio.jobs.submit(ws.id, "test-counted", Empty())
    studio.jobs.cancel(ws.id, job.id)
    again = studio.jobs.retry(ws.id, job.id)  # waiting again, under a new message
    assert _execute_next(studio).id == job.task_id  # the canceled message, revoked
    assert studio.jobs.get(ws.id, job.id).status == JobStatus.PENDING and "ok" not in calls
    assert _execute_next(studio).id == again.task_id
    row = studio.jobs.get(ws.id, job.id)
    assert (row.status, row.attempts, calls["ok"]) == (JobStatus.COMPLETED, 1, 1)


def test_a_retried_attempt_is_one_warning_line_and_its_stage_says_it_waits(
        studio: Studio, runner: JobRunner, caplog: pytest.LogCaptureFixture) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "test-flaky", Empty())
    huey = studio.queues.hueys["general"]
    with caplog.at_level(logging.INFO):
        huey.execute(huey.dequeue())
    waiting = studio.jobs.get(ws.id, job.id)
    assert (waiting.status, waiting.stage) == (JobStatus.PENDING, RETRY_STAGE)
    assert waiting.message == "Will retry in 5 s (attempt 2 of 4): ComfyUI cannot be reached at 127.0.0.1:1"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in warnings] == [
        ("WARNING", f"job {job.id} attempt 1 of 4 failed, will retry in 5 s: "
                    "ComfyUI cannot be reached at 127.0.0.1:1", None)]
    assert "Traceback" not in caplog.text
    [scheduled] = huey.storage.read_schedule(waiting.next_attempt_at.replace(tzinfo=None) + timedelta(seconds=1))
    task = huey.deserialize_task(scheduled)
    assert task.retries == 3  # Huey's own count is kept for a runner that crashes
    huey.execute(task, timestamp=task.eta)
    done = studio.jobs.get(ws.id, job.id)
    assert calls["stage at the retry"] == "Retrying (attempt 2 of 4)"  # no longer the wait
    assert done.status == JobStatus.COMPLETED and done.attempts == 2 and done.stage != RETRY_STAGE


def test_a_transient_fault_after_a_cancel_request_cancels_instead_of_retrying(
        studio: Studio, runner: JobRunner) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "test-canceled-then-transient", Empty())
    _execute_next(studio)
    row = studio.jobs.get(ws.id, job.id)
    assert row.status == JobStatus.CANCELED and row.next_attempt_at is None
    assert studio.queues.pending_count() == 0
