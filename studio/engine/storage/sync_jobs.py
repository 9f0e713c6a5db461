"""Publish and sync run as jobs on the general queue, with progress on the job row."""
from __future__ import annotations

from typing import Any

from studio.engine.errors import InvalidInput, ServiceUnavailable
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.registry import job_type
from studio.engine.llm.meter import secret_store_for
from studio.engine.storage.sync import SyncResult, WorkspaceSync, open_sides

SYNC_JOB = "sync-workspace"
MODES = ("publish", "sync")


@job_type(SYNC_JOB, queue="general")
def sync_workspace(ctx: JobContext) -> dict[str, Any]:
    mode = str(ctx.payload.get("mode", "sync"))
    if mode not in MODES:
        raise InvalidInput(f"Unknown sync mode '{mode}'; one of {', '.join(MODES)}.")
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

        result = sync.publish(progress) if mode == "publish" else sync.run(progress)
    finally:
        sides.server.dispose()
    return summary(result)


def summary(result: SyncResult) -> dict[str, Any]:
    return {"pushed": result.pushed, "pulled": result.pulled, "removed": result.removed,
            "uploaded": result.uploaded,
            "conflicts": [{"table": c.table, "row_id": c.row_id, "mine": c.mine, "theirs": c.theirs}
                          for c in result.conflicts]}
