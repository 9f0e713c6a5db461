"""A real worker process consumes real jobs from the real SQLite queue, and survives kill -9."""
from __future__ import annotations

import signal
from pathlib import Path

import redis
from PIL import Image

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.queues import redis_key
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.worker.process import Worker, WorkerAlreadyRunning, local_worker
from tests.conftest import run_cli, wait_until
from tests.engine.jobs.helpers import job_status, make_images


def test_worker_runs_thumbnail_job_to_completion(studio: Studio, worker, tmp_path: Path) -> None:
    ws = studio.workspace()
    files = make_images(tmp_path / "in", 3)
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))))
    wait_until(lambda: job_status(studio, ws.id, job.id) == "completed", what="job completion")
    done = studio.jobs.get(ws.id, job.id)
    assert done.progress == 1.0 and done.attempts == 1 and done.finished_at is not None
    thumbs = done.result["thumbnails"][files[0]]
    assert all(Path(t).is_file() for t in thumbs)
    assert max(Image.open(thumbs[-1]).size) == 256
    assert worker.stop() == 0
    assert local_worker(studio.paths) is None


def test_only_one_worker_per_data_folder(studio: Studio, worker) -> None:
    second = run_cli(studio.paths.data_dir, "worker", timeout=30)
    assert second.returncode == 1
    assert "already runs" in second.stderr and "Traceback" not in second.stderr
    try:
        Worker(studio).run()
    except WorkerAlreadyRunning as exc:
        assert str(worker.proc.pid) in str(exc)
    else:
        raise AssertionError("a second worker started")


def test_kill_9_during_a_job_then_next_start_finishes_it(studio: Studio, worker_factory,
                                                         tmp_path: Path) -> None:
    ws = studio.workspace()
    files = make_images(tmp_path / "many", 80, size=1200, progressive=True)
    first = worker_factory()
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))))
    wait_until(lambda: studio.jobs.get(ws.id, job.id).progress > 0.05, what="the job to be under way")
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    stuck = studio.jobs.get(ws.id, job.id)
    assert stuck.status == "processing" and stuck.progress < 1.0  # left hanging by the dead worker

    worker_factory()  # the next start finds the job and runs it again
    wait_until(lambda: job_status(studio, ws.id, job.id) == "completed", timeout=90,
               what="the orphaned job to complete")
    done = studio.jobs.get(ws.id, job.id)
    assert done.attempts == 2
    assert sorted(done.result["thumbnails"]) == sorted(files) and done.result["refused"] == {}


def test_cancel_stops_a_running_job(studio: Studio, worker, tmp_path: Path) -> None:
    ws = studio.workspace()
    files = make_images(tmp_path / "many", 60, size=1200, progressive=True)
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))))
    wait_until(lambda: studio.jobs.get(ws.id, job.id).progress > 0.0, what="the job to start")
    studio.jobs.cancel(ws.id, job.id)
    wait_until(lambda: job_status(studio, ws.id, job.id) == "canceled", what="cancel")
    canceled = studio.jobs.get(ws.id, job.id)
    assert canceled.progress < 1.0 and canceled.message == "Canceled by the user."


def test_a_live_worker_marked_stopped_by_someone_else_says_it_runs_and_keeps_its_job(
        studio: Studio, worker, tmp_path: Path) -> None:
    ws = studio.workspace()
    files = make_images(tmp_path / "many", 80, size=1200, progressive=True)
    job = studio.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))))
    wait_until(lambda: job_status(studio, ws.id, job.id) == "processing", what="the job to start")
    worker_id = studio.jobs.get(ws.id, job.id).worker_id
    with studio.db.session() as session:
        session.get(WorkerRecord, worker_id).stopped_at = utcnow()  # a forged "stopped"
    wait_until(lambda: studio_record(studio, worker_id).stopped_at is None, what="the next beat")
    wait_until(lambda: job_status(studio, ws.id, job.id) == "completed", timeout=90, what="the job")
    assert studio.jobs.get(ws.id, job.id).attempts == 1  # its own recovery did not restart it
    assert worker.stop() == 0


def studio_record(studio: Studio, worker_id: str | None) -> WorkerRecord:
    with studio.db.session() as session:
        record = session.get(WorkerRecord, worker_id)
        assert record is not None
        return record


def test_in_team_mode_only_its_own_jobs_keep_a_worker_whose_app_left(studio: Studio, redis_url: str,
                                                                       tmp_path: Path) -> None:
    """Other desks' jobs wait in the shared queues all day; they must not keep it alive."""
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    studio.save_settings()
    team = Studio.open(studio.paths.data_dir)
    try:
        worker = Worker(team)
        others = team.jobs.submit(team.workspace().id, "make-thumbnails",
                                  ThumbnailPayload(files=tuple(Path(f) for f in make_images(tmp_path, 1))))
        assert worker._idle()
        with team.db.session() as session:
            job = session.get(Job, others.id)
            assert job is not None
            job.status, job.worker_id = JobStatus.PROCESSING, worker.worker_id
        assert not worker._idle()
    finally:
        team.close()
        redis.Redis.from_url(redis_url).delete(redis_key("redis", "general"))  # for the next tests
