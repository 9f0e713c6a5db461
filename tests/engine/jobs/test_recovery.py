"""Orphans: a processing job counts as orphaned only when its worker's heartbeat is stale."""
from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.recovery import recover_orphans
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.plans.service import GENERATE_JOB
from studio.engine.processes import started_at
from tests.conftest import wait_until


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


def test_a_paid_job_whose_process_died_is_abandoned_and_can_be_retried(studio: Studio) -> None:
    ws = studio.workspace()
    with studio.db.session() as session:  # only its type matters to the recovery
        session.merge(_remote_worker(age_s=45))
        job = Job(workspace_id=ws.id, type=GENERATE_JOB, queue="general", payload={},
                  status="processing", worker_id="gpu-box:4242:abcd", attempts=1)
        session.add(job)
    recovered = recover_orphans(studio.db, studio.queues, timeout_s=30)
    assert [(r.job_id, r.action) for r in recovered] == [(str(job.id), "abandoned")]
    row = studio.jobs.get(ws.id, job.id)
    assert row.status == "failed" and row.error.startswith("Abandoned: the worker running this job")
    assert f"`jobs retry {job.id}`" in row.error
    assert studio.queues.hueys["general"].pending_count() == 0  # not queued again by itself
    assert studio.jobs.retry(ws.id, job.id).status == "pending"


def test_a_pid_reused_by_a_later_process_is_not_the_worker(studio: Studio) -> None:
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        wait_until(lambda: started_at(later.pid) is not None, what="the process to show in /proc")
        here = socket.gethostname()
        alive = WorkerRecord(id=f"{here}:{later.pid}:a", host=here, pid=later.pid, queues=["general"],
                             started_at=utcnow())
        job = _processing_job(studio, alive)
        assert recover_orphans(studio.db, studio.queues, timeout_s=30) == []
        # The same pid, but the record was written an hour before that process started.
        reused = WorkerRecord(id=f"{here}:{later.pid}:b", host=here, pid=later.pid,
                              queues=["general"], started_at=utcnow() - timedelta(hours=1))
        job = _processing_job(studio, reused)
        actions = {r.job_id: r.action for r in recover_orphans(studio.db, studio.queues, timeout_s=30)}
        assert actions == {str(job.id): "requeued"}
        assert "pid" in studio.jobs.get(job.workspace_id, job.id).message
    finally:
        later.kill()
        later.wait(timeout=10)
