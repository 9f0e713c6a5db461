"""Who serves a queue: the workers whose heartbeat says they take its jobs, and those gone quiet.

A worker serves the queues it was started with (``worker --queues``). It counts as serving
while its heartbeat is fresh and, on this machine, its process still runs; a command line
running its own job in-process serves no queue. A worker connected with a workspace role
(row-level security shows it one workspace) serves only that workspace's jobs.
"""
from __future__ import annotations

import re
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.recovery import is_in_process
from studio.engine.processes import still_running
from studio.engine.server.roles import workspace_role

_WORKSPACE_ROLE = re.compile(r"ws_[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class SeenWorker:
    worker_id: str
    host: str
    pid: int
    queues: tuple[str, ...]
    age_s: float  # since its last heartbeat
    fresh: bool  # heartbeat within the timeout and, on this host, its process still runs

    @property
    def label(self) -> str:
        return f"{self.host} (pid {self.pid})"

    @property
    def last_seen(self) -> str:
        return f"last seen {ago(self.age_s)}"


@dataclass(frozen=True, slots=True)
class QueueServing:
    queue: str
    fresh: tuple[SeenWorker, ...]  # serving it now
    quiet: tuple[SeenWorker, ...]  # started for it, but stalled or dead (most recent first)
    elsewhere: tuple[SeenWorker, ...]  # fresh workers that serve other queues only

    @property
    def served(self) -> bool:
        return bool(self.fresh)


def seen(record: WorkerRecord, *, timeout_s: float) -> SeenWorker:
    age = max((utcnow() - record.heartbeat_at).total_seconds(), 0.0)
    fresh = age <= timeout_s and record.stopped_at is None
    if fresh and record.host == socket.gethostname():
        fresh = still_running(record.pid, alive_at=record.started_at)
    return SeenWorker(record.id, record.host, record.pid, tuple(record.queues or ()), age, fresh)


def who_serves(studio: Studio, queue: str, workspace_id: uuid.UUID | None = None) -> QueueServing:
    """The workers of ``queue``; with ``workspace_id``, only those that can see its jobs."""
    timeout = studio.settings.worker.heartbeat_timeout_s
    with studio.db.session() as session:
        records = session.scalars(select(WorkerRecord).where(WorkerRecord.stopped_at.is_(None))
                                  .order_by(WorkerRecord.heartbeat_at.desc())).all()
        workers = [seen(r, timeout_s=timeout) for r in records
                   if not is_in_process(r.id) and sees_workspace(r, workspace_id)]
    mine = [w for w in workers if queue in w.queues]
    return QueueServing(queue, fresh=tuple(w for w in mine if w.fresh),
                        quiet=tuple(w for w in mine if not w.fresh),
                        elsewhere=tuple(w for w in workers if w.fresh and queue not in w.queues))


def sees_workspace(record: WorkerRecord, workspace_id: uuid.UUID | None) -> bool:
    """Whether the worker's database role can read ``workspace_id``'s jobs (any, when None)."""
    role = record.owner_role or ""
    if workspace_id is None or not _WORKSPACE_ROLE.fullmatch(role):
        return True
    return role == workspace_role(workspace_id)


def owner(studio: Studio, worker_id: str | None) -> SeenWorker | None:
    """The worker a processing job names; None when it left no record."""
    if not worker_id:
        return None
    with studio.db.session() as session:
        record = session.get(WorkerRecord, worker_id)
        return seen(record, timeout_s=studio.settings.worker.heartbeat_timeout_s) if record else None


def ago(seconds: float) -> str:
    """45 s ago, 2 min ago, 3 h ago, 2 days ago."""
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"
