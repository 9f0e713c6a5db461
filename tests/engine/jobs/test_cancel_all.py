"""Canceling every unfinished job for good (the app's "Cancel jobs" on quit): real SQLite and
queue; workers are heartbeat rows (a live one on another machine, a stopped one) and a real
``Worker`` putting back what it ran when it stops."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from studio.engine.core import Studio
from studio.engine.db.models import Job, WebhookDelivery, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_CANCELED
from studio.engine.jobs.cancel_all import CANCELED_MESSAGE, cancel_active, still_stopping
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.webhooks.store import add_webhook
from studio.engine.worker.process import Worker

TIMEOUT_S = 30.0


def _submit(studio: Studio, name: str) -> Job:
    return studio.jobs.submit(studio.workspace().id, "make-thumbnails",
                              ThumbnailPayload(files=(Path(f"{name}.png"),)), title=name)


def _running_on(studio: Studio, job: Job, worker: WorkerRecord) -> None:
    with studio.db.session() as session:
        session.merge(worker)
        session.execute(update(Job).where(Job.id == job.id).values(
            status=JobStatus.PROCESSING, worker_id=worker.id, attempts=1))


def _row(studio: Studio, job: Job) -> Job:
    return studio.jobs.get(job.workspace_id, job.id)


def _revoked(studio: Studio, job: Job) -> bool:
    """Whether the job's queue message is revoked (a worker dequeuing it skips it)."""
    huey = studio.queues.hueys[job.queue]
    [task] = [t for t in huey.pending() if str(t.id) == job.task_id]
    return bool(huey.is_revoked(task))


def _worker(worker_id: str, *, stopped: bool) -> WorkerRecord:
    return WorkerRecord(id=worker_id, host="gpu-box", pid=4242, queues=["general"],
                        heartbeat_at=utcnow(), stopped_at=utcnow() - timedelta(seconds=1) if stopped else None)


def test_waiting_jobs_end_at_once_and_a_live_worker_s_job_is_asked_to_stop(studio: Studio) -> None:
    waiting = [_submit(studio, f"w{n}") for n in range(3)]
    running = _submit(studio, "running")
    _running_on(studio, running, _worker("gpu-box:4242:live", stopped=False))
    other = studio.workspace("Other", create=True)
    elsewhere = studio.jobs.submit(other.id, "make-thumbnails", ThumbnailPayload(files=(Path("o.png"),)))
    keys = cancel_active(studio.jobs)
    assert len(keys) == 5  # every workspace's
    assert {_row(studio, j).status for j in [*waiting, elsewhere]} == {JobStatus.CANCELED}
    assert all(_revoked(studio, j) for j in waiting)  # a worker skips their messages
    assert _row(studio, running).cancel_requested and _row(studio, running).status == JobStatus.PROCESSING
    assert [k.job_id for k in still_stopping(studio.jobs, keys, timeout_s=TIMEOUT_S)] == [running.id]


def _canceled_events(studio: Studio) -> list[str]:
    with studio.db.session() as session:
        return [json.loads(d.body)["data"]["title"] for d in session.scalars(select(WebhookDelivery))]


def test_what_a_stopped_worker_left_ends_canceled_not_queued_again(studio: Studio) -> None:
    add_webhook(studio.db, studio.secrets, studio.workspace().id, url="https://a.example/x",
                events=[JOB_CANCELED])
    left_running = _submit(studio, "left running")
    put_back = _submit(studio, "put back")
    gone = _worker("gpu-box:4242:gone", stopped=True)
    _running_on(studio, left_running, gone)
    keys = cancel_active(studio.jobs)
    # An older worker stopping put its job back in the queue after the cancel was asked.
    studio.jobs.retry(put_back.workspace_id, put_back.id)
    assert still_stopping(studio.jobs, keys, timeout_s=TIMEOUT_S) == []
    assert _row(studio, left_running).status == JobStatus.CANCELED
    assert _row(studio, left_running).message == CANCELED_MESSAGE
    assert _row(studio, put_back).status == JobStatus.CANCELED and _revoked(studio, _row(studio, put_back))
    # webhooks hear of both (the one put back was canceled twice: before and after its retry)
    assert set(_canceled_events(studio)) == {"left running", "put back"}


def test_a_stopping_worker_ends_a_job_asked_to_cancel_instead_of_queuing_it_again(studio: Studio) -> None:
    add_webhook(studio.db, studio.secrets, studio.workspace().id, url="https://a.example/x",
                events=[JOB_CANCELED])
    worker = Worker(studio)
    asked, plain = _submit(studio, "asked"), _submit(studio, "plain")
    for job in (asked, plain):
        studio.queues.hueys["general"].dequeue()  # the worker took their messages
        _running_on(studio, job, WorkerRecord(id=worker.worker_id, host="here", pid=1, queues=[]))
    studio.jobs.cancel(asked.workspace_id, asked.id)
    worker._requeue_interrupted()
    assert _row(studio, asked).status == JobStatus.CANCELED and not _row(studio, asked).cancel_requested
    assert _row(studio, plain).status == JobStatus.PENDING  # not asked: it runs again
    assert _canceled_events(studio) == ["asked"]
    queued = [task.args[0] for task in studio.queues.hueys["general"].pending()]
    assert queued == [str(plain.id)]
