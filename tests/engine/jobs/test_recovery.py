"""Orphans: a processing job counts as orphaned only when its worker's heartbeat is stale."""
from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput
from studio.engine.jobs.recovery import LOST, queued_task_ids, recover_orphans, requeue_lost
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


def _waiting_job(studio: Studio, *, idle_s: float, lose_message: bool) -> Job:
    ws = studio.workspace()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
    if lose_message:
        studio.queues.hueys["general"].flush()  # as a Redis restart without persistence does
    with studio.db.session() as session:  # untouched for idle_s (an explicit value beats onupdate)
        session.execute(update(Job).where(Job.id == job.id).values(
            updated_at=utcnow() - timedelta(seconds=idle_s)))
    return job


def test_a_waiting_job_whose_message_is_gone_is_queued_again(studio: Studio) -> None:
    job = _waiting_job(studio, idle_s=60, lose_message=True)
    found = requeue_lost(studio.db, studio.queues, grace_s=30)
    assert [(r.job_id, r.action) for r in found] == [(str(job.id), LOST)]
    row = studio.jobs.get(job.workspace_id, job.id)
    assert row.status == "pending" and row.message == "Queued again: its queue message was lost."
    assert row.task_id != job.task_id
    assert row.task_id in queued_task_ids(studio.queues, "general")
    assert requeue_lost(studio.db, studio.queues, grace_s=0) == []  # its message is there now
    assert studio.queues.hueys["general"].pending_count() == 1


def test_waiting_jobs_with_their_message_or_just_queued_are_left_alone(studio: Studio) -> None:
    fresh = _waiting_job(studio, idle_s=0, lose_message=True)  # its message may be being taken
    queued = _waiting_job(studio, idle_s=60, lose_message=False)
    assert requeue_lost(studio.db, studio.queues, grace_s=30) == []
    assert studio.jobs.get(queued.workspace_id, queued.id).task_id == queued.task_id
    assert studio.jobs.get(fresh.workspace_id, fresh.id).task_id == fresh.task_id


def test_jobs_retry_sends_a_waiting_job_whose_message_was_lost(studio: Studio) -> None:
    job = _waiting_job(studio, idle_s=0, lose_message=True)
    again = studio.jobs.retry(job.workspace_id, job.id)
    assert again.status == "pending" and again.task_id in queued_task_ids(studio.queues, "general")
    with pytest.raises(InvalidInput, match="waiting ones whose queue message was lost"):
        studio.jobs.retry(job.workspace_id, job.id)  # now it has its message: nothing to retry


def test_a_worker_never_recovers_its_own_running_job_even_when_marked_stopped(studio: Studio) -> None:
    me = WorkerRecord(id="this-box:1:mine", host="this-box", pid=1, queues=["general"],
                      heartbeat_at=utcnow() - timedelta(seconds=300), stopped_at=utcnow())
    job = _processing_job(studio, me)
    assert recover_orphans(studio.db, studio.queues, timeout_s=30, me=me.id) == []
    assert studio.jobs.get(job.workspace_id, job.id).status == "processing"
    assert [r.action for r in recover_orphans(studio.db, studio.queues, timeout_s=30)] == ["requeued"]
