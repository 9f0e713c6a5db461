"""What a waiting caller says it waits for, by when, and when it runs the job itself.

The watch's clock is a fake one: each look happens at a chosen moment, so "said within 5 s" is
checked without sleeping."""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from filelock import FileLock

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.plans.service import GENERATE_JOB
from studio.engine.worker.process import lock_path
from studio.engine.worker.watch import STARTING_GRACE_S, JobWatch, new_watch
from tests.conftest import wait_until
from tests.engine.jobs.helpers import make_images

HERE = socket.gethostname()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _worker(queues: list[str], *, age_s: float, pid: int | None = None) -> WorkerRecord:
    pid = os.getpid() if pid is None else pid  # a live process, as a worker's would be
    return WorkerRecord(id=f"{HERE}:{pid}:{'-'.join(queues)}", host=HERE, pid=pid, queues=queues,
                        started_at=utcnow() - timedelta(seconds=age_s + 1),
                        heartbeat_at=utcnow() - timedelta(seconds=age_s))


def _add(studio: Studio, *rows: object) -> None:
    with studio.db.session() as session:
        for row in rows:
            session.merge(row)


@pytest.fixture
def job(studio: Studio, tmp_path: Path) -> Job:
    """A small job, so running it here ends soon."""
    files = tuple(Path(f) for f in make_images(tmp_path / "in", 1, size=64))
    return studio.jobs.submit(studio.workspace().id, "make-thumbnails", ThumbnailPayload(files=files))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def watch(studio: Studio, job: Job, clock: FakeClock) -> Iterator[JobWatch]:
    made = new_watch(studio, job.id, clock)
    yield made
    made.here.close()


def _look(studio: Studio, watch: JobWatch, job: Job) -> list[str]:
    return watch.look(studio.jobs.get(job.workspace_id, job.id))


def test_no_worker_at_all_is_said_at_once_and_the_job_runs_here(studio: Studio, watch: JobWatch,
                                                               job: Job) -> None:
    assert _look(studio, watch, job) == [
        "waiting for a worker on queue 'general' — none is serving it; running the job in this process"]
    assert watch.here.running
    wait_until(lambda: studio.jobs.get(job.workspace_id, job.id).status == "completed",
               what="the job to run here")


def test_a_worker_for_other_queues_is_named(studio: Studio, watch: JobWatch, job: Job) -> None:
    _add(studio, _worker(["training"], age_s=1))
    [line] = _look(studio, watch, job)
    assert line == (f"waiting for a worker on queue 'general' — none is serving it "
                    f"({HERE} (pid {os.getpid()}) serves training); running the job in this process")
    assert watch.here.running


def test_a_stalled_worker_is_named_with_when_it_was_last_seen(studio: Studio, watch: JobWatch,
                                                              job: Job) -> None:
    _add(studio, _worker(["general", "training"], age_s=125))
    [line] = _look(studio, watch, job)  # the first look, at 0 s
    assert line == (f"the worker for queue 'general' on {HERE} (pid {os.getpid()}) is not answering "
                    "(last seen 2 min ago); running the job in this process")
    assert watch.here.running


def test_a_dead_worker_with_a_fresh_heartbeat_does_not_hold_the_job(studio: Studio, watch: JobWatch,
                                                                    job: Job) -> None:
    _add(studio, _worker(["general"], age_s=0.5, pid=2**22 + 17))  # above pid_max: no such process
    [line] = _look(studio, watch, job)
    assert "is not answering" in line and watch.here.running


def test_a_live_worker_is_waited_for_and_named_after_3_s(studio: Studio, watch: JobWatch, job: Job,
                                                         clock: FakeClock) -> None:
    _add(studio, _worker(["general"], age_s=0.5))
    said: list[tuple[float, str]] = []
    while clock.now < 10:
        said += [(clock.now, line) for line in _look(studio, watch, job)]
        clock.sleep(0.2)
    assert said == [(pytest.approx(3.0), f"waiting for the worker on {HERE} (pid {os.getpid()}) "
                                         "to take it from queue 'general'")]
    assert not watch.here.running


def _held_by_stalled_worker(studio: Studio, job_type: str) -> Job:
    stalled = _worker(["general"], age_s=125)
    ws = studio.workspace()
    job = Job(id=uuid.uuid4(), workspace_id=ws.id, type=job_type, queue="general", status="processing",
              payload={"version": 1, "files": []}, worker_id=stalled.id, attempts=1)
    _add(studio, stalled, job)
    return job


def test_a_job_held_by_a_stalled_worker_is_taken_back_and_run_here(studio: Studio,
                                                                   clock: FakeClock) -> None:
    job = _held_by_stalled_worker(studio, "make-thumbnails")
    watch = new_watch(studio, job.id, clock)
    try:
        [line] = _look(studio, watch, job)
        assert line == (f"the worker running it ({HERE} (pid {os.getpid()}), last seen 2 min ago) has "
                        "stopped answering; taking the job back")
        assert studio.jobs.get(job.workspace_id, job.id).status == "pending"
        assert "running the job in this process" in _look(studio, watch, job)[0]
    finally:
        watch.here.close()


def test_a_paid_job_held_by_a_stalled_worker_is_abandoned(studio: Studio, clock: FakeClock) -> None:
    job = _held_by_stalled_worker(studio, GENERATE_JOB)
    watch = new_watch(studio, job.id, clock)
    lines = _look(studio, watch, job)
    assert lines[-1] == "it is not run again: see the error below"
    row = studio.jobs.get(job.workspace_id, job.id)
    assert row.status == "failed" and row.error.startswith("Abandoned:")
    assert not watch.here.running


def test_a_worker_still_starting_here_is_waited_for_then_given_up_on(studio: Studio, job: Job,
                                                                     watch: JobWatch,
                                                                     clock: FakeClock) -> None:
    """The lock is taken before the worker registers: the job is not run here meanwhile."""
    with FileLock(str(lock_path(studio.paths)), timeout=0):
        assert watch.look(job) == ["waiting for the worker starting on this machine"]
        assert not watch.here.running
        clock.now = STARTING_GRACE_S
        [line] = watch.look(job)
    assert "none is serving it" in line and watch.here.running
