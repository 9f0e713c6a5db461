"""Pipelines: an approved plan item becomes a finished post, step by step on the queue.

picture (generate-image) → clip (generate-video, when the item has a motion prompt) → export for
the platform (export-video, or a still JPEG) → publish folder (the file, a cover, caption.txt and
post.json, ready to upload). Each step that needs a worker is a job of its own, linked to the
``run-pipeline`` job that drives it (``Job.parent_id``); the item keeps which steps are done in
``PlanItem.pipeline``, so a retry or a restart never redoes a finished step.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from studio.engine.core import Studio
from studio.engine.db.models import Job, PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.status import ACTIVE, JobStatus

JOB_TYPE = "run-pipeline"
QUEUE = "pipeline"
RUNNABLE = ("approved", "failed", "ready")  # ready: run again from where it stands (nothing)
STILL_PRESETS = {"instagram": "instagram-feed-4x5", "tiktok": "tiktok", "youtube-shorts": "youtube-shorts"}
VIDEO_PRESETS = {"instagram": "instagram-reel", "tiktok": "tiktok", "youtube-shorts": "youtube-shorts"}
FAILED_OR_CANCELED = frozenset({JobStatus.FAILED, JobStatus.CANCELED})


@dataclass(frozen=True, slots=True)
class PipelinePayload:
    item_id: uuid.UUID
    not_before: datetime | None = None  # the daily run staggers its pipelines


@dataclass(frozen=True, slots=True)
class PipelineResult:
    item_id: uuid.UUID
    folder: Path  # the post's publish folder, on the machine that ran the pipeline


@dataclass(frozen=True, slots=True)
class StepStatus:
    name: str  # image, video, export, publish
    status: str  # waiting, running, done, failed
    job_id: uuid.UUID | None
    progress: float
    detail: str


@dataclass(frozen=True, slots=True)
class PipelineStatus:
    state: str  # idle, running, failed, ready
    steps: list[StepStatus]
    folder: Path | None
    job_id: uuid.UUID | None  # the run-pipeline job, when there is one


def steps_of(item: PlanItem) -> list[str]:
    return ["image", *(["video"] if item.video_prompt.strip() else []), "export", "publish"]


def preset_for(platform: str, *, video: bool) -> str:
    presets = VIDEO_PRESETS if video else STILL_PRESETS
    if platform not in presets:
        raise InvalidInput(f"No export preset for the platform '{platform}'; known: "
                           f"{', '.join(sorted(presets))}.")
    return presets[platform]


def submit_pipeline(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID,
                    *, not_before: datetime | None = None) -> Job:
    """Queues the item's pipeline; only an approved item (or a failed one, to go on) runs."""
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        item = repo.get(PlanItem, item_id)
        if _active_job(session, item.id) is not None:
            raise InvalidInput("This post's pipeline is already running.")
        if item.status not in RUNNABLE and item.status != "producing":  # producing, no job: stale
            raise InvalidInput(f"Only an approved post can be produced; this one is {item.status}.")
        preset_for(item.platform, video=bool(item.video_prompt.strip()))  # a platform we can serve
        repo.update(item, status="producing")
        title = f"Produce {item.platform} post of {item.scheduled_at:%Y-%m-%d %H:%M}: {item.topic[:60]}"
    payload = PipelinePayload(item_id=item_id, not_before=not_before)
    try:
        return studio.jobs.submit(workspace_id, JOB_TYPE, payload, title=title)
    except Exception:
        with studio.db.session() as session:  # nothing was queued: the post is as it was
            repo = Repository(session, workspace_id)
            repo.update(repo.get(PlanItem, item_id), status=item.status)
        raise


def pipeline_status(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID) -> PipelineStatus:
    with studio.db.session() as session:
        item = Repository(session, workspace_id).get(PlanItem, item_id)
        state = dict(item.pipeline or {})
        parent = _latest_job(session, item.id)
        steps = []
        for name in steps_of(item):
            step = state.get(name) or {}
            job = session.get(Job, uuid.UUID(step["job_id"])) if step.get("job_id") else None
            steps.append(_step_status(name, step, job))
        folder = Path(state["publish"]["folder"]) if (state.get("publish") or {}).get("done") else None
        if parent is not None and parent.status in ACTIVE:
            overall = "running"
        elif item.status == "ready":
            overall = "ready"
        elif item.status == "failed" or (parent is not None and parent.status in FAILED_OR_CANCELED):
            overall = "failed"
        else:
            overall = "idle"
        return PipelineStatus(overall, steps, folder, parent.id if parent else None)


def _step_status(name: str, step: dict[str, Any], job: Job | None) -> StepStatus:
    if step.get("done"):
        return StepStatus(name, "done", job.id if job else None, 1.0, str(step.get("detail", "")))
    if job is None:
        return StepStatus(name, "waiting", None, 0.0, "")
    status = {JobStatus.PENDING: "waiting", JobStatus.PROCESSING: "running",
              JobStatus.COMPLETED: "done"}.get(JobStatus(job.status), "failed")
    detail = job.error if status == "failed" else (job.stage or job.message)
    return StepStatus(name, status, job.id, job.progress, detail)


def _of_item(item_id: uuid.UUID) -> Select[Job]:
    """The item's run-pipeline jobs, found by their payload in the database (JSON path), not by
    reading every pipeline job there ever was."""
    return select(Job).where(Job.type == JOB_TYPE, Job.payload["item_id"].as_string() == str(item_id))


def _latest_job(session: Session, item_id: uuid.UUID) -> Job | None:
    return session.scalars(_of_item(item_id).order_by(Job.created_at.desc()).limit(1)).first()


def _active_job(session: Session, item_id: uuid.UUID) -> Job | None:
    return session.scalars(_of_item(item_id).where(Job.status.in_(ACTIVE))
                           .limit(1)).first()
