"""The server recipe's Redis users, against a real Redis started with the recipe's ACL file.

A desk may put jobs on the studio's queues (and count, list and revoke them), nothing else: no
pop, no delete, no other key, no admin command. A worker may serve the queues, nothing else.
"""
from __future__ import annotations

import logging
import signal
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis

from studio.engine.config import Paths, Settings
from studio.engine.core import Studio
from studio.engine.jobs.queues import QUEUE_NAMES, REDIS_KEY_KINDS, redis_key
from studio.engine.jobs.queueset import QueueSet
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.server.connect import check_redis
from studio.engine.urls import split_password
from tests.conftest import wait_until
from tests.engine.jobs.helpers import job_status, make_images
from tests.engine.jobs.hostile import crafted_pickle, priority_member
from tests.servers import RedisUsers

Refused = redis.exceptions.NoPermissionError


def make_queues(tmp_path: Path, url: str, ran: list[str] | None = None) -> QueueSet:
    settings = Settings()
    settings.set("queue.backend", "redis")
    settings.set("queue.redis_url", url)
    paths = Paths(tmp_path / f"data-{uuid.uuid4().hex[:6]}", tmp_path / "config")
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    runner: Callable[[str, object], None] | None = None
    if ran is not None:
        runner = lambda job_id, task: ran.append(job_id)  # noqa: E731
    return QueueSet(settings, paths, runner)


@contextmanager
def consuming(queues: QueueSet, queue: str) -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    [consumer] = queues.consumers(queues=[queue], concurrency=1, shutdown_timeout=10)
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_the_keys_granted_are_the_keys_huey_uses(tmp_path: Path, redis_users: RedisUsers) -> None:
    queues = make_queues(tmp_path, redis_users.worker)
    try:
        for name in QUEUE_NAMES:
            storage = queues.hueys[name].storage
            assert [storage.queue_key, storage.schedule_key, storage.result_key] == [
                redis_key(kind, name) for kind in REDIS_KEY_KINDS]
    finally:
        queues.close()


def test_a_desk_puts_jobs_on_the_queues_and_may_count_list_and_revoke_them(
        tmp_path: Path, redis_users: RedisUsers) -> None:
    desk = make_queues(tmp_path, redis_users.desk)
    try:
        job_id = str(uuid.uuid4())
        task_id = desk.enqueue("training", job_id, priority=2)
        assert desk.pending_count() >= 1
        assert task_id in {t.id for t in desk.hueys["training"].pending()}
        desk.revoke("training", task_id)
        assert check_redis(redis_users.desk).ok
    finally:
        redis.Redis.from_url(redis_users.admin).delete(*(redis_key(k, "training") for k in REDIS_KEY_KINDS))
        desk.close()


@pytest.mark.parametrize("command", [
    ("ZPOPMIN", redis_key("redis", "general")),           # take another desk's job
    ("BZPOPMIN", redis_key("redis", "general"), "0.1"),
    ("ZREM", redis_key("redis", "general"), "x"),
    ("DEL", redis_key("redis", "general")),               # drop a queue
    ("HGET", redis_key("results", "general"), "r:x"),
    ("HDEL", redis_key("results", "general"), "r:x"),     # un-cancel
    ("ZADD", redis_key("schedule", "general"), "0", "x"),
    ("SET", "influencerai:anything", "1"),                # any other key
    ("GET", "sessions:1"),
    ("KEYS", "*"),
    ("FLUSHALL",),
    ("CONFIG", "GET", "*"),
    ("CONFIG", "SET", "dir", "/tmp"),
    ("ACL", "LIST"),
    ("EVAL", "return 1", "0"),
    ("SCRIPT", "LOAD", "return 1"),
])
def test_a_desk_is_refused_everything_else(redis_users: RedisUsers, command: tuple[str, ...]) -> None:
    client = redis.Redis.from_url(redis_users.desk)
    try:
        with pytest.raises(Refused):
            client.execute_command(*command)
    finally:
        client.close()


@pytest.mark.parametrize("command", [
    ("FLUSHALL",), ("CONFIG", "GET", "*"), ("KEYS", "*"), ("SET", "other", "1"), ("ACL", "LIST"),
    ("DEL", redis_key("redis", "general")), ("EVAL", "return 1", "0"),
])
def test_a_worker_is_refused_what_serving_the_queues_does_not_need(
        redis_users: RedisUsers, command: tuple[str, ...]) -> None:
    client = redis.Redis.from_url(redis_users.worker)
    try:
        with pytest.raises(Refused):
            client.execute_command(*command)
    finally:
        client.close()


def test_a_desk_cannot_consume_but_a_worker_serves_its_jobs_and_retries(
        tmp_path: Path, redis_users: RedisUsers, caplog: pytest.LogCaptureFixture) -> None:
    desk = make_queues(tmp_path, redis_users.desk)
    ran: list[str] = []
    worker = make_queues(tmp_path, redis_users.worker, ran)
    try:
        with pytest.raises(Refused):
            desk.hueys["video"].dequeue()
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        desk.enqueue("video", first)
        delayed = worker.task("video", second)  # as a retry: through the schedule and its script
        delayed.eta = datetime.utcnow() - timedelta(seconds=1)
        worker.hueys["video"].add_schedule(delayed)
        with caplog.at_level(logging.WARNING), consuming(worker, "video"):
            wait_until(lambda: {first, second} <= set(ran), what="the worker to run both jobs")
        assert not [r for r in caplog.records if "NOPERM" in r.getMessage() or r.exc_info]
        assert check_redis(redis_users.worker).ok
    finally:
        desk.close()
        worker.close()


def test_a_pickle_a_desk_pushes_never_runs_on_a_real_worker(
        studio: Studio, worker_factory: Callable[..., object], redis_users: RedisUsers,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The breach of issue 17 end to end: a desk with its Redis user pushes a crafted pickle onto
    a queue; the worker (its own user, a real process) drops it and runs the desk's next job."""
    worker_url, worker_password = split_password(redis_users.worker)
    desk_url, desk_password = split_password(redis_users.desk)
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", worker_url)
    studio.save_settings()
    marker = tmp_path / "pwned"
    desk = redis.Redis.from_url(redis_users.desk)
    desk.zadd(redis_key("redis", "general"), {priority_member(crafted_pickle(marker)): 0})
    desk.close()
    monkeypatch.setenv("INFLUENCERAI_SECRET_SERVER_REDIS", worker_password or "")
    worker_factory("--queues", "general")
    monkeypatch.setenv("INFLUENCERAI_SECRET_SERVER_REDIS", desk_password or "")
    studio.settings.set("queue.redis_url", desk_url)
    studio.save_settings()
    team = Studio.open(studio.paths.data_dir)
    try:
        ws = team.workspace()
        job = team.jobs.submit(ws.id, "make-thumbnails",
                               ThumbnailPayload(files=tuple(map(Path, make_images(tmp_path / "in", 1)))))
        wait_until(lambda: job_status(team, ws.id, job.id) == "completed", what="the desk's job")
    finally:
        team.close()
    assert not marker.exists(), "the worker unpickled the desk's message"
    log = (studio.paths.logs_dir / "worker.jsonl").read_text()
    assert "refused a queue message that is not the studio's: not JSON" in log
