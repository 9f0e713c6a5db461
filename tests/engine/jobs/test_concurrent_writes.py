"""The job row is written by its worker (progress) and by the user (cancel) at the same time;
neither write may fail because the other came first."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm.exc import StaleDataError

from studio.engine.core import Studio
from studio.engine.db.database import retry_if_stale
from studio.engine.db.models import Job
from studio.engine.jobs.context import JobContext
from studio.engine.media.thumbnails import ThumbnailPayload


def test_progress_and_cancel_at_once_both_land(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("studio.engine.jobs.context.PROGRESS_INTERVAL_S", 0.0)
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=()))
    with studio.db.session() as session:
        session.get(Job, job.id).status = "processing"
    ctx = JobContext(job_id=job.id, workspace_id=ws.id, payload={}, db=studio.db, paths=studio.paths,
                     settings=studio.settings)
    errors: list[BaseException] = []

    def report() -> None:
        try:
            for step in range(300):
                ctx.progress(step / 300, message=f"step {step}")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=report)
    worker.start()
    for _ in range(30):
        studio.jobs.cancel(ws.id, job.id)
    worker.join(30)
    assert errors == []
    done = studio.jobs.get(ws.id, job.id)
    assert done.cancel_requested and done.progress > 0.9
    ctx.progress(1.0)
    assert ctx._canceled


def test_a_stale_write_is_tried_again_on_a_fresh_row() -> None:
    calls = []

    def write() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StaleDataError("changed meanwhile")
        return "written"

    assert retry_if_stale(write) == "written" and len(calls) == 3
    with pytest.raises(StaleDataError):
        retry_if_stale(lambda: (_ for _ in ()).throw(StaleDataError("always")))
