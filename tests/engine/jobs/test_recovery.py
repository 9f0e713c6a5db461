"""Orphans: a processing job counts as orphaned only when its worker's heartbeat is stale."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.recovery import recover_orphans
from studio.engine.media.thumbnails import ThumbnailPayload


def _processing_job(studio: Studio, worker: WorkerRecord, attempts: int = 1) -> Job:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
    studio.queues.hueys["general"].flush()
    with studio.db.session() as session:
        session.merge(worker)
        row = session.get(Job, job.id)
        row.status, row.worker_id, row.attempts = "processing", worker.id, attempts
    return job


def _remote_worker(age_s: float) -> WorkerRecord:
    return WorkerRecord(id="gpu-box:4242:abcd", host="gpu-box", pid=4242, queues=["generation"],
                        heartbeat_at=utcnow() - timedelta(seconds=age_s))


def test_fresh_heartbeat_is_left_alone(studio: Studio) -> None:
    job = _processing_job(studio, _remote_worker(age_s=2))
    assert recover_orphans(studio.db, studio.queues, timeout_s=30) == []
    assert studio.jobs.get(job.workspace_id, job.id).status == "processing"


def test_stale_heartbeat_requeues_the_job(studio: Studio) -> None:
    job = _processing_job(studio, _remote_worker(age_s=45))
    recovered = recover_orphans(studio.db, studio.queues, timeout_s=30)
    assert [(r.job_id, r.action) for r in recovered] == [(str(job.id), "requeued")]
    row = studio.jobs.get(job.workspace_id, job.id)
    assert row.status == "pending" and "pid 4242 on gpu-box" in row.message
    assert studio.queues.hueys["general"].pending_count() == 1


def test_orphan_out_of_attempts_fails_with_a_clear_message(studio: Studio) -> None:
    job = _processing_job(studio, _remote_worker(age_s=45), attempts=4)
    recover_orphans(studio.db, studio.queues, timeout_s=30)
    row = studio.jobs.get(job.workspace_id, job.id)
    assert row.status == "failed"
    assert row.error == ("The worker running this job (pid 4242 on gpu-box) stopped unexpectedly, "
                         "after 4 attempt(s).")
