"""Publish and sync run as jobs on the general queue, with progress on the job row."""
from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput, ServiceUnavailable
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.registry import job_type
from studio.engine.secrets import secret_store_for
from studio.engine.sync.records import SyncResult, WorkspaceSync
from studio.engine.sync.sides import open_sides

SYNC_JOB = "sync-workspace"


class SyncMode(enum.Enum):
    PUBLISH = "publish"
    SYNC = "sync"


MODES = tuple(m.value for m in SyncMode)


@dataclass(frozen=True, slots=True)
class SyncPayload:
    mode: SyncMode = SyncMode.SYNC


@dataclass(frozen=True, slots=True)
class ConflictRow:
    table: str
    row_id: str
    mine: dict[str, Any]
    theirs: dict[str, Any]
    kind: str = "fields"  # or "clash": two rows made separately under one name


@dataclass(frozen=True, slots=True)
class SyncSummary:
    pushed: int = 0
    pulled: int = 0
    removed: int = 0
    uploaded: int = 0
    conflicts: tuple[ConflictRow, ...] = ()


def queue_sync(studio: Studio, workspace_id: uuid.UUID, mode: str) -> Job:
    """Queues a publish or a sync of the workspace; an unknown mode is refused now."""
    try:
        chosen = SyncMode(mode)
    except ValueError:
        raise InvalidInput(f"Unknown sync mode '{mode}'; one of {', '.join(MODES)}.") from None
    return studio.jobs.submit(workspace_id, SYNC_JOB, SyncPayload(mode=chosen),
                              title=f"{chosen.value} workspace")


@job_type(SYNC_JOB, queue="general", payload=SyncPayload, result=SyncSummary)
def sync_workspace(ctx: JobContext, payload: SyncPayload) -> SyncSummary:
    ctx.progress(0.0, stage="connecting")
    try:
        sides = open_sides(ctx.db, ctx.paths, ctx.settings, secret_store_for(ctx.paths))
    except ServiceUnavailable as exc:
        raise ServiceUnavailable(f"{exc} Local edits are kept and go up at the next sync.") from exc
    try:
        sync = WorkspaceSync(sides, ctx.workspace_id)

        def progress(fraction: float, stage: str) -> None:
            ctx.check_canceled()
            ctx.progress(fraction, stage=stage)

        result = sync.publish(progress) if payload.mode is SyncMode.PUBLISH else sync.run(progress)
    finally:
        sides.server.dispose()
    return summary(result)


def summary(result: SyncResult) -> SyncSummary:
    return SyncSummary(pushed=result.pushed, pulled=result.pulled, removed=result.removed,
                       uploaded=result.uploaded,
                       conflicts=tuple(ConflictRow(table=c.table, row_id=c.row_id, mine=c.mine,
                                                   theirs=c.theirs, kind=c.kind)
                                     for c in result.conflicts))
