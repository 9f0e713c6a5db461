"""A submit while the team's Redis is down is refused in one line and leaves no job behind."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import redis
from PIL import Image
from sqlalchemy import func, select

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.jobs.queues import QueueUnavailable, redis_key
from studio.engine.jobs.status import JobStatus
from studio.engine.media.thumbnails import ThumbnailPayload
from tests.conftest import run_cli
from tests.servers import free_port


def point_queue_at_closed_port(studio: Studio) -> str:
    """Settings whose Redis has nobody listening; returns the address the error should name."""
    port = free_port()  # bound and released: nothing listens there
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", f"redis://127.0.0.1:{port}/0")
    studio.save_settings()
    return f"redis://127.0.0.1:{port}"


def job_rows(studio: Studio) -> int:
    with studio.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def test_a_refused_batch_removes_every_row_it_wrote(studio: Studio) -> None:
    where = point_queue_at_closed_port(studio)
    team = Studio.open(studio.paths.data_dir)
    try:
        items = [(ThumbnailPayload(files=(Path(f"{n}.png"),)), f"thumb {n}") for n in range(3)]
        with pytest.raises(QueueUnavailable) as refused:
            team.jobs.submit_many(team.workspace().id, "make-thumbnails", items)
        message = str(refused.value)
        assert message.startswith(f"the job queue at {where} cannot be reached: ")
        assert message.endswith("; nothing was queued") and "\n" not in message
        assert job_rows(team) == 0
    finally:
        team.close()


def test_the_command_line_says_so_in_one_line_and_leaves_no_job(studio: Studio, tmp_path: Path) -> None:
    face = tmp_path / "face.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(face)
    assert run_cli(studio.paths.data_dir, "influencer", "create", "Nova").returncode == 0
    where = point_queue_at_closed_port(studio)
    result = run_cli(studio.paths.data_dir, "influencer", "avatar", "Nova", str(face))  # it would wait
    assert result.returncode == 1, result.stderr
    assert re.fullmatch(rf"error: the job queue at {re.escape(where)} cannot be reached: "
                        r"[^\n]+; nothing was queued\n", result.stderr), result.stderr
    assert result.stdout == ""
    assert job_rows(studio) == 0


def test_a_cancel_holds_and_a_retry_changes_nothing_while_the_queue_is_down(studio: Studio, redis_url: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    studio.save_settings()
    up = Studio.open(studio.paths.data_dir)
    try:
        job = up.jobs.submit(up.workspace().id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
    finally:
        up.close()
    point_queue_at_closed_port(studio)
    down = Studio.open(studio.paths.data_dir)
    try:
        with caplog.at_level(logging.WARNING, logger="studio.jobs"):
            assert down.jobs.cancel(job.workspace_id, job.id).status == JobStatus.CANCELED
        assert any(f"queue message {job.task_id} was not revoked" in r.getMessage() for r in caplog.records)
        with pytest.raises(QueueUnavailable, match="nothing was queued"):
            down.jobs.retry(job.workspace_id, job.id)
        after = down.jobs.get(job.workspace_id, job.id)  # not left waiting for a message
        assert (after.status, after.task_id, after.message) == (
            JobStatus.CANCELED, job.task_id, "Canceled before it started.")
    finally:
        down.close()
        redis.Redis.from_url(redis_url).delete(redis_key("redis", "general"))  # for the next tests


def test_a_retry_of_a_waiting_job_says_the_queue_is_down_in_one_line(studio: Studio) -> None:
    """`jobs retry` of a pending job first looks for its message; with Redis down, one line."""
    with studio.db.session() as session:
        job = Job(workspace_id=studio.workspace().id, type="make-thumbnails", queue="general",
                  status=JobStatus.PENDING, title="Thumbnails", payload={}, task_id="lost")
        session.add(job)
    where = point_queue_at_closed_port(studio)
    down = Studio.open(studio.paths.data_dir)
    try:
        with pytest.raises(QueueUnavailable, match=re.escape(where)):
            down.jobs.retry(job.workspace_id, job.id)
        assert down.jobs.get(job.workspace_id, job.id).status == JobStatus.PENDING
    finally:
        down.close()
