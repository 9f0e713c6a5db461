"""A real team worker rides out a PostgreSQL restart and a Redis restart in the middle of a job:
it stays up, says so once in its log, and the job completes once, by it."""
from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.media.thumbnails import ThumbnailPayload
from tests.conftest import wait_until
from tests.engine.jobs.helpers import make_images
from tests.engine.worker.restartable import Restartable, RestartablePostgres, own_postgres, own_redis
from tests.engine.worker.team import connected_profile, log_lines, start_worker, stop_workers

IMAGES = 100  # a few seconds of thumbnails: the job is still running when the server goes down


@pytest.fixture
def pg() -> Iterator[RestartablePostgres]:
    with own_postgres() as server:
        yield server


@pytest.fixture
def redis_server() -> Iterator[Restartable]:
    with own_redis() as server:
        yield server


def team(tmp_path: Path, pg: RestartablePostgres, redis_url: str) -> tuple[Studio, Path]:
    name = f"t_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = pg.url.rsplit("/", 1)[0] + f"/{name}"
    box = tmp_path / "box"
    connected_profile(box, database, redis_url).close()
    studio = connected_profile(tmp_path / "desk", database, redis_url)
    return studio, box


def submit(studio: Studio, tmp_path: Path, count: int, title: str) -> uuid.UUID:
    ws = studio.workspace("Agency", create=True)
    files = make_images(tmp_path / title, count, size=1200, progressive=True)
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))),
                             title=title)
    return job.id


def reachable_again(box: Path) -> list[str]:
    return [m for m in log_lines(box, "info") if "reachable again" in m]


def status(studio: Studio, job_id: uuid.UUID) -> str:
    return str(studio.jobs.get(studio.workspace("Agency").id, job_id).status)


def test_a_postgresql_restart_longer_than_the_heartbeat_timeout_mid_job(
        tmp_path: Path, pg: RestartablePostgres, redis_url: str) -> None:
    """Two workers on the queue: when the server is back, every heartbeat is stale, and neither
    the running worker's recovery nor the other's may take the running job for an orphan."""
    studio, box = team(tmp_path, pg, redis_url)
    other = tmp_path / "other-box"
    connected_profile(other, str(studio.settings.database.url), redis_url).close()
    for huey in studio.queues.hueys.values():
        huey.flush()  # the Redis server is shared by the session's tests
    workers = [start_worker(box), start_worker(other)]
    try:
        job_id = submit(studio, tmp_path, IMAGES, "during-restart")
        wait_until(lambda: status(studio, job_id) == "processing", timeout=60, what="the job to start")
        studio.db.dispose()
        outage = utcnow()
        pg.stop()
        wait_until(lambda: log_lines(box, "warning") and log_lines(other, "warning"), timeout=30,
                   what="the workers to notice")
        # Down for longer than the 3 s heartbeat timeout.
        wait_until(lambda: utcnow() - outage > timedelta(seconds=4), timeout=30, what="a long outage")
        pg.start()
        wait_until(lambda: status(studio, job_id) == "completed", timeout=120, what="the job")
        assert [w.poll() for w in workers] == [None, None]  # both survived
        job = studio.jobs.get(studio.workspace("Agency").id, job_id)
        assert job.attempts == 1 and len(job.result["thumbnails"]) == IMAGES  # once, not re-run
        assert job.finished_at is not None and job.finished_at > outage  # it ran through the outage
        wait_until(lambda: all(reachable_again(p) for p in (box, other)), what="both to say so")
        for profile in (box, other):
            warnings = log_lines(profile, "warning")
            assert len(warnings) == 1 and warnings[0].startswith("the database cannot be reached"), warnings
            back = reachable_again(profile)
            assert len(back) == 1 and back[0].startswith("the database is reachable again"), back
    finally:
        stop_workers(workers)
        studio.close()


def test_a_redis_restart_mid_job_keeps_the_job_and_requeues_the_lost_messages(
        tmp_path: Path, pg: RestartablePostgres, redis_server: Restartable) -> None:
    studio, box = team(tmp_path, pg, f"redis://127.0.0.1:{redis_server.port}/0")
    worker = start_worker(box)
    try:
        running = submit(studio, tmp_path, IMAGES, "running")
        waiting = submit(studio, tmp_path, 2, "waiting")  # its message dies with Redis
        wait_until(lambda: status(studio, running) == "processing", timeout=60, what="the job to start")
        outage = utcnow()
        redis_server.stop()
        wait_until(lambda: log_lines(box, "warning"), timeout=30, what="the worker to notice")
        redis_server.start()
        wait_until(lambda: status(studio, running) == "completed" and status(studio, waiting) == "completed",
                   timeout=120, what="both jobs")
        assert worker.poll() is None
        first = studio.jobs.get(studio.workspace("Agency").id, running)
        assert first.attempts == 1 and len(first.result["thumbnails"]) == IMAGES
        assert first.finished_at is not None and first.finished_at > outage
        warnings = log_lines(box, "warning")
        assert warnings[0].startswith("the queue cannot be reached"), warnings
        assert sum(m.startswith("the queue cannot be reached") for m in warnings) == 1
        assert any(m.startswith("the queue is reachable again") for m in log_lines(box, "info"))
        second = studio.jobs.get(studio.workspace("Agency").id, waiting)
        assert second.attempts == 1 and second.message == "Done."
    finally:
        stop_workers([worker])
        studio.close()


def test_after_a_long_outage_a_worker_does_not_take_a_live_worker_s_job(
        tmp_path: Path, pg: RestartablePostgres, redis_url: str) -> None:
    """The worker running the job is paused through the outage and resumed only once the other
    worker has beaten again: its heartbeat is older than the timeout then, yet it is alive, and
    the other worker gives it one timeout to beat before it counts its jobs as orphans."""
    studio, box = team(tmp_path, pg, redis_url)
    other = tmp_path / "other-box"
    connected_profile(other, str(studio.settings.database.url), redis_url).close()
    for huey in studio.queues.hueys.values():
        huey.flush()
    workers = [start_worker(box), start_worker(other)]
    try:
        job_id = submit(studio, tmp_path, IMAGES, "paused-owner")
        wait_until(lambda: status(studio, job_id) == "processing", timeout=60, what="the job to start")
        owner_id = studio.jobs.get(studio.workspace("Agency").id, job_id).worker_id
        with studio.db.session() as session:
            owner_pid = session.scalar(select(WorkerRecord.pid).where(WorkerRecord.id == owner_id))
        running = next(w for w in workers if w.pid == owner_pid)
        bystander = other if running is workers[0] else box
        running.send_signal(signal.SIGSTOP)
        studio.db.dispose()
        outage = utcnow()
        pg.stop()
        wait_until(lambda: log_lines(bystander, "warning"), timeout=30, what="the other worker to notice")
        wait_until(lambda: utcnow() - outage > timedelta(seconds=4), timeout=30, what="a long outage")
        pg.start()
        wait_until(lambda: reachable_again(bystander), timeout=30, what="the other worker to beat again")
        running.send_signal(signal.SIGCONT)
        wait_until(lambda: status(studio, job_id) == "completed", timeout=120, what="the job")
        job = studio.jobs.get(studio.workspace("Agency").id, job_id)
        assert (job.attempts, job.worker_id) == (1, owner_id)  # run once, by the worker it started on
        assert [w.poll() for w in workers] == [None, None]
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
        stop_workers(workers)
        studio.close()
