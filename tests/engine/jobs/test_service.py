"""The job lifecycle without a worker: submit, cancel while waiting, retry, validation."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.errors import InvalidInput
from studio.engine.media.thumbnails import ThumbnailPayload


def test_submit_writes_a_pending_row_and_a_queue_entry(studio: Studio) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)), title="Thumbs")
    assert job.status == "pending" and job.queue == "general" and job.task_id
    assert job.max_attempts == 4 and job.attempts == 0
    assert studio.queues.hueys["general"].pending_count() == 1
    assert studio.jobs.active_count(ws.id) == 1


def test_unknown_job_type_is_refused(studio: Studio) -> None:
    with pytest.raises(InvalidInput, match="Unknown job type"):
        studio.jobs.submit(studio.workspace().id, "mine-bitcoin", {})


def test_cancel_pending_then_retry(studio: Studio) -> None:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
    canceled = studio.jobs.cancel(ws.id, job.id)
    assert canceled.status == "canceled" and canceled.finished_at is not None
    with pytest.raises(InvalidInput, match="already canceled"):
        studio.jobs.cancel(ws.id, job.id)
    again = studio.jobs.retry(ws.id, job.id)
    assert again.status == "pending" and again.task_id != job.task_id
    with pytest.raises(InvalidInput, match="Only failed or canceled"):
        studio.jobs.retry(ws.id, job.id)


def test_list_filters_by_status(studio: Studio) -> None:
    ws = studio.workspace()
    a = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
    studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("b.png"),)))
    studio.jobs.cancel(ws.id, a.id)
    assert [j.id for j in studio.jobs.list(ws.id, status="canceled")] == [a.id]
    assert len(studio.jobs.list(ws.id)) == 2
    with pytest.raises(InvalidInput):
        studio.jobs.list(ws.id, status="exploded")


def test_submit_many_writes_every_job_with_its_task_and_queues_them_in_order(studio: Studio) -> None:
    ws = studio.workspace()
    jobs = studio.jobs.submit_many(ws.id, "make-thumbnails",
                                   [(ThumbnailPayload(files=(Path(f"{n}.png"),)), f"Thumbs {n}") for n in range(4)])
    assert [j.title for j in jobs] == [f"Thumbs {n}" for n in range(4)]
    assert len({j.task_id for j in jobs}) == 4
    huey = studio.queues.hueys["general"]
    assert huey.pending_count() == 4
    queued = [task.args[0] for task in huey.pending()]
    assert queued == [str(j.id) for j in jobs]
    stored = {j.id: j.task_id for j in studio.jobs.list(ws.id)}
    assert all(stored[j.id] == j.task_id for j in jobs)
