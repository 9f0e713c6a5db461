"""Live workers, as the Workers view shows them: where they run, what they serve, what they do."""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from studio.engine.db.database import Database
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.jobs.status import JobStatus
from studio.engine.tools import run_tool


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    id: str
    host: str
    pid: int
    queues: tuple[str, ...]
    app_version: str
    gpu: str  # empty: none found on that machine
    heartbeat_age_s: float
    current: tuple[str, ...]  # titles of this workspace's jobs it runs now
    busy_elsewhere: int  # jobs it runs for other workspaces: counted, never named


def live_workers(db: Database, workspace_id: uuid.UUID, *, timeout_s: float) -> list[WorkerStatus]:
    """Workers not stopped whose heartbeat is fresher than ``timeout_s``."""
    fresh_since = utcnow() - timedelta(seconds=timeout_s)
    with db.session() as session:
        workers = session.scalars(select(WorkerRecord).where(
            WorkerRecord.stopped_at.is_(None), WorkerRecord.heartbeat_at >= fresh_since)
            .order_by(WorkerRecord.host, WorkerRecord.pid)).all()
        running = session.execute(select(Job.worker_id, Job.workspace_id, Job.title).where(
            Job.status == JobStatus.PROCESSING, Job.worker_id.in_([w.id for w in workers]))).all()
    now = utcnow()
    statuses = []
    for worker in workers:
        mine = tuple(title for wid, ws, title in running if wid == worker.id and ws == workspace_id)
        other = sum(1 for wid, ws, _ in running if wid == worker.id and ws != workspace_id)
        statuses.append(WorkerStatus(
            id=worker.id, host=worker.host, pid=worker.pid, queues=tuple(worker.queues or ()),
            app_version=worker.app_version, gpu=worker.gpu, current=mine, busy_elsewhere=other,
            heartbeat_age_s=max((now - worker.heartbeat_at).total_seconds(), 0.0)))
    return statuses


def machine_gpu() -> str:
    """This machine's NVIDIA GPUs as nvidia-smi names them, with memory; empty without one."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return ""
    done = run_tool([exe, "--query-gpu=name,memory.total", "--format=csv,noheader"])
    if done.returncode != 0:
        return ""
    gpus = [", ".join(part.strip() for part in line.split(",")) for line in done.stdout.splitlines()
            if line.strip()]
    return "; ".join(gpus)[:200]
