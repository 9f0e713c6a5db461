"""Why a waiting job waits, read from the real workers table and queue."""
from __future__ import annotations

import uuid
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.worker.waiting import waiting_reason


def thumbnails_job(studio: Studio) -> uuid.UUID:
    payload = ThumbnailPayload(files=(Path("/nowhere.png"),))
    return studio.jobs.submit(studio.workspace().id, "make-thumbnails", payload).id


def add_worker(studio: Studio, *queues: str, host: str = "render-box") -> None:
    """A worker on another machine with a fresh heartbeat (so no process check applies)."""
    with studio.db.session() as session:
        session.add(WorkerRecord(id=f"{host}:4242:{uuid.uuid4().hex[:6]}", host=host, pid=4242,
                                 queues=list(queues), heartbeat_at=utcnow()))


def test_no_worker_for_the_queue_is_said_with_where_to_look(studio: Studio) -> None:
    job_id = thumbnails_job(studio)
    assert waiting_reason(studio, job_id) == ("Waiting for a worker on queue 'general' — none is serving "
                                              "it. The Queue page shows the workers.")
    add_worker(studio, "training")
    reason = waiting_reason(studio, job_id)
    assert "none is serving it" in reason and "render-box (pid 4242) serves training" in reason


def test_with_a_worker_it_names_the_worker_and_the_jobs_ahead(studio: Studio) -> None:
    add_worker(studio, "general", "generation")
    first, second = thumbnails_job(studio), thumbnails_job(studio)
    assert waiting_reason(studio, first).startswith("Waiting for the worker on render-box")
    assert waiting_reason(studio, second).startswith("Waiting in the 'general' queue: 1 job(s) ahead, on render-box")


def test_a_job_that_is_not_waiting_has_no_reason(studio: Studio) -> None:
    job_id = thumbnails_job(studio)
    with studio.db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.status = JobStatus.PROCESSING
    assert waiting_reason(studio, job_id) == ""
    assert waiting_reason(studio, uuid.uuid4()) == ""
