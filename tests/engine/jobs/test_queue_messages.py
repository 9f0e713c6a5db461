"""Queue messages are data: JSON naming a job id, never a pickle a worker would run.

A crafted pickle pushed straight into the real queue storage (SQLite's task table, Redis' sorted
set, the schedule, a revoke record) is refused with one warning line and dropped; the consumer
goes on serving the studio's own messages.
"""
from __future__ import annotations

import json
import logging
import pickle
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from huey.registry import Message

from studio.engine.config import Paths, Settings
from studio.engine.jobs.message_codec import RefusedMessage
from studio.engine.jobs.queues import RETRIES, RETRY_BACKOFF, RETRY_DELAY_S
from studio.engine.jobs.queueset import DAILY_QUEUE, QueueSet
from tests.conftest import wait_until
from tests.engine.jobs.hostile import crafted_pickle, priority_member

REFUSED = "refused a queue message that is not the studio's"


def test_the_crafted_pickle_is_real(tmp_path: Path) -> None:
    """The attack the other tests send: plain pickle.loads would create the marker file."""
    marker = tmp_path / "proof"
    pickle.loads(crafted_pickle(marker)).close()
    assert marker.exists()


def make_queues(tmp_path: Path, ran: list[str], redis_url: str | None = None) -> QueueSet:
    settings = Settings()
    if redis_url is not None:
        settings.set("queue.backend", "redis")
        settings.set("queue.redis_url", redis_url)
    paths = Paths(tmp_path / "data", tmp_path / "config")
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    return QueueSet(settings, paths, lambda job_id, task: ran.append(job_id))


@contextmanager
def consuming(queues: QueueSet, queue: str) -> Iterator[None]:
    """A real Huey consumer on ``queue`` in this process; the signal handlers it installs in the
    main thread are put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    [consumer] = queues.consumers(queues=[queue], concurrency=1, shutdown_timeout=10)
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_a_job_message_is_json_naming_the_job_and_round_trips(tmp_path: Path) -> None:
    queues = make_queues(tmp_path, [])
    huey = queues.hueys["training"]
    job_id = str(uuid.uuid4())
    task = queues.task("training", job_id, priority=3)
    task.eta = datetime(2030, 1, 2, 3, 4, 5)
    wire = json.loads(huey.serialize_task(task))
    assert wire == {"v": 1, "id": task.id, "task": "studio.run_job", "job": job_id, "priority": 3,
                    "retries": RETRIES, "retry_delay": RETRY_DELAY_S, "retry_backoff": RETRY_BACKOFF,
                    "eta": "2030-01-02T03:04:05"}
    back = huey.deserialize_task(huey.serialize_task(task))
    assert (back.id, back.args, back.kwargs, back.priority, back.eta) == (
        task.id, (job_id,), {}, 3, datetime(2030, 1, 2, 3, 4, 5))
    assert (back.retries, back.retry_delay, back.retry_backoff) == (RETRIES, RETRY_DELAY_S, RETRY_BACKOFF)


def test_a_revoke_record_is_json_too(tmp_path: Path) -> None:
    queues = make_queues(tmp_path, [])
    task = queues.task("general", str(uuid.uuid4()))
    queues.put("general", task)
    queues.revoke("general", task.id)
    huey = queues.hueys["general"]
    assert json.loads(huey.storage.peek_data(task.revoke_id)) == {"v": 1, "revoke_until": None, "once": False}
    assert huey.is_revoked(task)


def test_a_task_starts_with_no_revoke_look_up_or_cleanup_and_a_revoke_is_still_recorded(
        tmp_path: Path) -> None:
    """A worker leaves the verdict to the job's row (job_rows.claim: a canceled or replaced
    job's message claims nothing), so starting a task costs no revoke read or delete."""
    ran: list[str] = []
    queues = make_queues(tmp_path, ran)
    huey = queues.hueys["general"]
    touched: list[str] = []

    def counted(name: str) -> None:
        method = getattr(huey.storage, name)

        def call(key: object) -> object:
            touched.append(name)
            return method(key)
        setattr(huey.storage, name, call)
    for name in ("peek_data", "peek_many", "pop_data", "delete_data"):
        counted(name)
    kept, revoked = (queues.task("general", str(uuid.uuid4())) for _ in range(2))
    for task in (kept, revoked):
        queues.put("general", task)
    queues.revoke("general", revoked.id)
    huey.execute(huey.dequeue())
    huey.execute(huey.dequeue())
    assert touched == [] and ran == [kept.args[0], revoked.args[0]]  # the runner decides
    assert huey.is_revoked(revoked) and not huey.is_revoked(kept)  # who asks still learns it


@pytest.mark.parametrize(("change", "reason"), [
    ({"task": "os.system"}, "is not one the studio runs"),
    ({"task": "studio.daily_pipelines"}, "is not one the studio runs"),  # not on this queue
    ({"job": "../../etc/passwd"}, "is not a UUID"),
    ({"job": None}, "with job None"),
    ({"job": ["a", "b"]}, "is not a UUID"),
    ({"job": "{6F1C0D4E-2B7A-4C3E-9A51-0D2E8F7B6C5A}"}, "is not a UUID"),  # only the one spelling
    ({"kwargs": {"task": 1}}, "unexpected fields"),
    ({"retries": 10**9}, "out of range"),
    ({"retry_delay": -1}, "out of range"),
    ({"priority": "high"}, "not a whole number"),
    ({"eta": "tomorrow"}, "not a naive ISO time"),
    ({"v": 2}, "version 2"),
])
def test_messages_of_any_other_shape_are_refused(tmp_path: Path, change: dict[str, object],
                                                 reason: str) -> None:
    huey = make_queues(tmp_path, []).hueys["general"]
    good = json.loads(huey.serialize_task(make_queues(tmp_path, []).task("general", str(uuid.uuid4()))))
    with pytest.raises(RefusedMessage, match=reason):
        huey.serializer.deserialize(json.dumps({**good, **change}).encode())


def test_the_daily_task_travels_only_on_the_pipeline_queue_without_a_job(tmp_path: Path) -> None:
    huey = make_queues(tmp_path, []).hueys[DAILY_QUEUE]
    [periodic] = huey._registry.periodic_tasks
    wire = json.loads(huey.serialize_task(periodic))
    assert (wire["task"], wire["job"]) == ("studio.daily_pipelines", None)
    assert huey.deserialize_task(huey.serialize_task(periodic)).args == ()


def test_anything_but_a_studio_message_cannot_even_be_written(tmp_path: Path) -> None:
    serializer = make_queues(tmp_path, []).hueys["general"].serializer
    with pytest.raises(TypeError):
        serializer.serialize({"a": 1})
    with pytest.raises(TypeError):
        serializer.serialize(Message(id=str(uuid.uuid4()), name="builtins.print", args=("x",)))


def assert_refused_and_still_serving(queues: QueueSet, queue: str, marker: Path,
                                     caplog: pytest.LogCaptureFixture, ran: list[str],
                                     refusals: int) -> None:
    job_id = str(uuid.uuid4())
    with caplog.at_level(logging.WARNING, logger="studio.jobs"), consuming(queues, queue):
        wait_until(lambda: len([r for r in caplog.records if REFUSED in r.getMessage()]) >= refusals,
                   what="the refusals")
        queues.enqueue(queue, job_id)
        wait_until(lambda: job_id in ran, what="the valid job after the refused ones")
    assert not marker.exists(), "the pickle was loaded"
    lines = [r for r in caplog.records if REFUSED in r.getMessage()]
    assert len(lines) == refusals and all(r.levelno == logging.WARNING for r in lines)
    assert all("\n" not in r.getMessage() and "not JSON" in r.getMessage() for r in lines)
    assert ran == [job_id]


def test_a_pickle_in_the_sqlite_queue_and_schedule_is_dropped(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    queues = make_queues(tmp_path, ran)
    marker = tmp_path / "pwned"
    name = queues.hueys["general"].storage.name
    with sqlite3.connect(queues.hueys["general"].storage.filename) as db:
        db.execute("insert into task (queue, data, priority) values (?, ?, 0)", (name, crafted_pickle(marker)))
        db.execute("insert into schedule (queue, data, timestamp) values (?, ?, 0)",
                   (name, crafted_pickle(marker)))
    db.close()
    assert_refused_and_still_serving(queues, "general", marker, caplog, ran, refusals=2)


def test_a_pickle_in_the_redis_queue_schedule_and_revoke_record_is_dropped(
        tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    queues = make_queues(tmp_path, ran, redis_url)
    marker = tmp_path / "pwned"
    storage = queues.hueys["video"].storage
    client = redis.Redis.from_url(redis_url)
    client.delete(storage.queue_key, storage.schedule_key, storage.result_key)  # other tests' leftovers
    client.zadd(storage.queue_key, {priority_member(crafted_pickle(marker)): 0})
    client.zadd(storage.schedule_key, {crafted_pickle(marker): 0})
    try:
        assert_refused_and_still_serving(queues, "video", marker, caplog, ran, refusals=2)
        # A revoke record a desk wrote as a pickle: a worker starting the task reads no revoke
        # record, so the task it names still runs; a look-up refuses it and drops it.
        task = queues.task("video", str(uuid.uuid4()))
        client.hset(storage.result_key, task.revoke_id, crafted_pickle(marker))
        queues.put("video", task)
        with caplog.at_level(logging.WARNING, logger="studio.jobs"), consuming(queues, "video"):
            wait_until(lambda: task.args[0] in ran, what="the task behind a pickled revoke record")
            assert not queues.hueys["video"].is_revoked(task)
        assert not marker.exists()
        assert len([r for r in caplog.records if REFUSED in r.getMessage()]) == 3
        assert not client.hexists(storage.result_key, task.revoke_id)  # dropped as well
    finally:
        client.delete(storage.queue_key, storage.schedule_key, storage.result_key)
        queues.close()


def test_a_retry_goes_through_the_schedule_as_json(tmp_path: Path, redis_url: str) -> None:
    queues = make_queues(tmp_path, [], redis_url)
    huey = queues.hueys["generation"]
    task = queues.task("generation", str(uuid.uuid4()))
    task.eta = datetime.utcnow() - timedelta(seconds=1)
    try:
        huey.add_schedule(task)
        raw = redis.Redis.from_url(redis_url).zrange(huey.storage.schedule_key, 0, -1)
        assert json.loads(raw[0])["job"] == task.args[0]
        assert [t.id for t in huey.read_schedule()] == [task.id]
    finally:
        queues.close()


def test_listing_a_queue_skips_what_it_refuses_without_loading_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``jobs retry`` lists a queue to see whether a job's message is there: same refusal."""
    queues = make_queues(tmp_path, [])
    huey = queues.hueys["general"]
    marker = tmp_path / "pwned"
    with sqlite3.connect(huey.storage.filename) as db:
        db.execute("insert into task (queue, data, priority) values (?, ?, 0)",
                   (huey.storage.name, crafted_pickle(marker)))
    db.close()
    task = queues.task("general", str(uuid.uuid4()))
    queues.put("general", task)
    with caplog.at_level(logging.WARNING):
        assert [t.id for t in huey.pending()] == [task.id]
        assert huey.scheduled() == []
    assert not marker.exists()
    assert [r.levelno for r in caplog.records if REFUSED in r.getMessage()] == [logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
