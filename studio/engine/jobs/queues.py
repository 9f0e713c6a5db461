"""The Huey queues, built from settings: SqliteHuey by default, PriorityRedisHuey in team mode.

Every queue speaks the studio's JSON messages (message_codec), never pickles, and drops what it
refuses with one warning line.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.api import PeriodicTask, Task, TaskWrapper
from huey.constants import EmptyData
from huey.storage import SqliteStorage
from redis import ConnectionPool

from studio.engine.config import Paths, Settings
from studio.engine.errors import ServiceUnavailable, SettingsError
from studio.engine.jobs.message_codec import RefusedMessage, Revocation, StudioSerializer, log_refused
from studio.engine.jobs.queue_names import QUEUE_NAMES as QUEUE_NAMES
from studio.engine.jobs.redis_storage import StudioRedisStorage
from studio.engine.urls import with_password

RETRIES = 3
RETRY_DELAY_S = 5
RETRY_BACKOFF = 5  # 5 s, 25 s, 125 s
TASK_NAME = "studio.run_job"
CONNECT_TIMEOUT_S = 5  # a Redis host that is down answers nothing; say so instead of hanging


class QueueUnavailable(ServiceUnavailable):
    """A message could not be put on its queue; the caller undoes what it wrote for it."""


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    workers: int
    purpose: str


def queue_specs(settings: Settings) -> list[QueueSpec]:
    q = settings.queue
    return [
        QueueSpec("generation", q.generation_workers, "images through ComfyUI"),
        QueueSpec("video", q.video_workers, "video through ComfyUI and FFmpeg"),
        QueueSpec("training", q.training_workers, "LoRA training (holds the GPU)"),
        QueueSpec("general", q.general_workers, "thumbnails, probing and other light work"),
        QueueSpec("pipeline", q.pipeline_workers, "plan items from picture to published folder"),
    ]


HUEY_NAME_PREFIX = "influencerai-"
# Huey's Redis keys drop what is not [A-Za-z0-9_] from the name: huey.redis.influencerai<queue>
# (the queue), huey.schedule.… (delayed retries), huey.results.… (revoke records). The server's
# Redis users (installers/server/redis-acl.sh) are granted these patterns only.
REDIS_KEY_KINDS = ("redis", "schedule", "results")


def redis_key(kind: str, queue: str) -> str:
    """The Redis key Huey uses for ``queue``'s ``kind`` (one of REDIS_KEY_KINDS)."""
    return f"huey.{kind}.{re.sub('[^A-Za-z0-9_]', '', HUEY_NAME_PREFIX + queue)}"

def build_huey(name: str, settings: Settings, paths: Paths, redis_password: str | None = None) -> Huey:
    """One Huey instance (= one queue) named ``influencerai-<name>``; the Redis password comes
    from the keyring (server.redis), never from the settings file."""
    huey_name = HUEY_NAME_PREFIX + name
    if settings.queue.backend == "redis":
        if not settings.queue.redis_url:
            raise SettingsError("queue.backend is 'redis' but queue.redis_url is empty.")
        url = with_password(settings.queue.redis_url, redis_password)
        pool = ConnectionPool.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
        return StudioRedisHuey(huey_name, connection_pool=pool, results=False,
                               serializer=StudioSerializer())
    return StudioSqliteHuey(huey_name, filename=str(paths.queue_file), results=False, timeout=30,
                            serializer=StudioSerializer())


def queue_unreachable(settings: Settings, exc: Exception) -> QueueUnavailable:
    """One line naming the queue's server (never its password) and why, e.g. for a submit."""
    parts = urlsplit(settings.queue.redis_url)
    where = f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"
    reason = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    return QueueUnavailable(f"the job queue at {where} cannot be reached: {reason}; nothing was queued")


def allow_task(huey: Huey, wire_name: str, wrapper: TaskWrapper, *, takes_job: bool) -> None:
    """Lets ``wrapper``'s task travel on ``huey`` under ``wire_name``."""
    serializer = huey.serializer
    assert isinstance(serializer, StudioSerializer), "queues are built by build_huey"
    serializer.allow(wire_name, wrapper.task_class, takes_job=takes_job)


def register_runner(huey: Huey, runner: Callable[[str, object], None]) -> TaskWrapper:
    """Registers the one task every queue carries: run the job whose id it was given."""

    def run_job(job_id: str, task: object = None) -> None:
        runner(job_id, task)

    wrapper = huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_S, retry_backoff=RETRY_BACKOFF,
                        context=True, name=TASK_NAME)(run_job)
    allow_task(huey, TASK_NAME, wrapper, takes_job=True)
    return wrapper


class _RefusingHuey:
    """Huey's read paths with refusals dropped: a refused message is one warning, never run.

    Class-wide revokes (Huey's ``rt:`` keys) are not honoured: the studio never writes them, and
    a desk that may revoke its own tasks could otherwise stop every task of a queue with one."""
    name: str
    storage: object
    serializer: StudioSerializer

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._not_revoked: set[str] = set()  # tasks started without a revoke look-up (see delete)

    def dequeue(self) -> Task | None:
        data = self.storage.dequeue()  # type: ignore[attr-defined]
        if data is None:
            return None
        try:
            return self.deserialize_task(data)  # type: ignore[attr-defined]
        except RefusedMessage as exc:
            log_refused(self.name, exc)
            return None

    def read_schedule(self, timestamp: datetime | None = None) -> list[Task]:
        if timestamp is None:
            timestamp = self._get_timestamp()  # type: ignore[attr-defined]
        return self._accepted(self.storage.read_schedule(timestamp))  # type: ignore[attr-defined]

    def pending(self, limit: int | None = None) -> list[Task]:
        return self._accepted(self.storage.enqueued_items(limit))  # type: ignore[attr-defined]

    def scheduled(self, limit: int | None = None) -> list[Task]:
        return self._accepted(self.storage.scheduled_items(limit))  # type: ignore[attr-defined]

    def _accepted(self, messages: list[bytes]) -> list[Task]:
        tasks = []
        for data in messages:
            try:
                tasks.append(self.deserialize_task(data))  # type: ignore[attr-defined]
            except RefusedMessage as exc:
                log_refused(self.name, exc)
        return tasks

    def is_revoked(self, task: object, timestamp: datetime | None = None, peek: bool = True) -> bool:
        """Whether ``task``'s message is revoked. As a worker starts a job's task (Huey asks
        with peek False) nothing is read: the job's claim takes the row only while it waits for
        this very message (jobs/job_rows.py), which a cancel or a replacing message has already
        changed, so a revoked message runs nothing anyway; the look-up was one more round trip
        to Redis per job. Revokes are still written and read here (for older workers, and for
        anyone who asks)."""
        if not isinstance(task, Task):
            return False  # a class or wrapper: class-wide revokes are not honoured (see above)
        if not peek and not isinstance(task, PeriodicTask):
            self._not_revoked.add(task.revoke_id)
            return False
        record = self._revocation(task.revoke_id)
        if record is None:
            return False
        now = timestamp or self._get_timestamp()  # type: ignore[attr-defined]
        expired = not record.once and record.until is not None and record.until <= now
        if (record.once or expired) and not peek:
            self.storage.delete_data(task.revoke_id)  # type: ignore[attr-defined]
        return not expired

    def delete(self, key: str) -> object:
        """Huey clears a task's revoke record after each run, in case one came while it ran. The
        studio revokes only waiting jobs' messages (a running job is asked to stop in its row),
        and a job's row decides whether its message runs, so that write, one per job, is
        skipped for the tasks started here."""
        if key in self._not_revoked:
            self._not_revoked.discard(key)
            return False
        return self.storage.delete_data(key)  # type: ignore[attr-defined]

    def _revocation(self, key: str) -> Revocation | None:
        data = self.storage.peek_data(key)  # type: ignore[attr-defined]
        if data is EmptyData:
            return None
        try:
            record = self.serializer.deserialize(data)
            if not isinstance(record, Revocation):
                raise RefusedMessage("a task where a revoke record belongs")
        except RefusedMessage as exc:
            log_refused(self.name, exc)
            self.storage.delete_data(key)  # type: ignore[attr-defined]
            return None
        return record


class StudioSqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey is untyped
    """Huey's SQLite storage in WAL mode with ``synchronous=NORMAL``, as the studio's database.

    Huey leaves SQLite's default (FULL), which syncs the log on every commit: each message put
    or taken waits for the disk, and more so while the job rows' file has unsynced writes. In
    WAL mode NORMAL keeps the file consistent through a crash; a power cut may lose the last
    messages, which recovery finds as waiting jobs whose message is lost (jobs/recovery.py)."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


class StudioSqliteHuey(_RefusingHuey, SqliteHuey):  # type: ignore[misc]  # huey is untyped
    """Solo mode's queue (a SQLite file), reading only the studio's JSON messages."""

    storage_class = StudioSqliteStorage


class StudioRedisHuey(_RefusingHuey, PriorityRedisHuey):  # type: ignore[misc]  # huey is untyped
    """Team mode's queue (Redis, priorities kept), reading only the studio's JSON messages."""

    storage_class = StudioRedisStorage
