"""Team mode: the same jobs through a real Redis queue and a real PostgreSQL database."""
from __future__ import annotations

from pathlib import Path

from huey import PriorityRedisHuey

from studio.engine.core import Studio
from studio.engine.media.thumbnails import ThumbnailPayload
from tests.conftest import wait_until
from tests.engine.jobs.helpers import job_status, make_images


def test_worker_runs_jobs_from_redis_with_records_in_postgresql(
        studio: Studio, worker_factory, redis_url: str, postgres_url: str, tmp_path: Path) -> None:
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    studio.settings.set("database.url", postgres_url)
    studio.save_settings()
    team = Studio.open(studio.paths.data_dir)
    try:
        assert isinstance(team.queues.hueys["generation"], PriorityRedisHuey)
        assert team.db.engine.dialect.name == "postgresql"
        ws = team.workspace("Agency", create=True)
        files = make_images(tmp_path / "in", 2)
        job = team.jobs.submit(ws.id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))))
        assert team.queues.hueys["general"].pending_count() == 1  # the task sits in Redis
        worker_factory()
        wait_until(lambda: job_status(team, ws.id, job.id) == "completed", what="job via Redis")
        assert len(team.jobs.get(ws.id, job.id).result["thumbnails"]) == 2
    finally:
        team.close()
