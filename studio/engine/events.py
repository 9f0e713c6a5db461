"""The studio's events as automation sees them: one JSON shape for webhooks and for ``/events``.

An event is ``{"id", "type", "at", "workspace_id", "data"}``; ``data`` is a job's or a plan
item's public view as the API shows it (api/schemas.py, api/sanitize.py: no absolute path of
this machine, no secret). The id names the row's version, so the same outcome recorded twice is
still one event (webhook deliveries are unique per event).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from studio.engine.api.sanitize import clean_text, clean_value
from studio.engine.db.database import Database
from studio.engine.db.models import Job, PlanItem
from studio.engine.jobs.snapshot import FIRST_READ_LIMIT, OVERLAP
from studio.engine.jobs.status import JobStatus

JOB_COMPLETED, JOB_FAILED, JOB_CANCELED = "job.completed", "job.failed", "job.canceled"
JOB_PROGRESS = "job.progress"  # on /events only: far too frequent for webhooks
PLAN_ITEM_READY = "plan.item.ready"
WEBHOOK_EVENTS: tuple[str, ...] = (JOB_COMPLETED, JOB_FAILED, JOB_CANCELED, PLAN_ITEM_READY)
_FINISHED_TYPES = {JobStatus.COMPLETED: JOB_COMPLETED, JobStatus.FAILED: JOB_FAILED,
                   JobStatus.CANCELED: JOB_CANCELED}
PLAN_ITEM_READY_STATUS = "ready"  # what pipelines/run.py writes when an item's production is done


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    at: datetime
    workspace_id: uuid.UUID
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "at": iso(self.at),
                "workspace_id": str(self.workspace_id), "data": self.data}

    def body(self) -> str:
        """The exact text sent (and signed): compact JSON, UTF-8 as it is."""
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"))


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def job_type_of(status: JobStatus) -> str:
    """The event a job in ``status`` stands for: its outcome, or progress while it is active."""
    return _FINISHED_TYPES.get(status, JOB_PROGRESS)


def job_event(job: Job, data_dir: Path | None = None) -> Event:
    """The job's outcome, or its progress while it is active; ``data`` is the API's job view."""
    from studio.engine.api.schemas import job_view  # pydantic: only when an event is made
    data = job_view(job, data_dir).model_dump(mode="json")
    return Event(id=f"job-{job.id.hex}-{job.version}", type=job_type_of(JobStatus(job.status)),
                 at=job.updated_at, workspace_id=job.workspace_id, data=data)


def plan_item_event(item: PlanItem, data_dir: Path | None = None) -> Event:
    return Event(id=f"item-{item.id.hex}-{item.version}", type=PLAN_ITEM_READY, at=item.updated_at,
                 workspace_id=item.workspace_id, data=plan_item_data(item, data_dir))


def plan_item_data(item: PlanItem, data_dir: Path | None = None) -> dict[str, Any]:
    """The item, and what each pipeline step made (files shown relative to the data folder)."""
    steps = {name: {k: v for k, v in step.items() if k in ("job_id", "done", "detail", "files")}
             for name, step in (item.pipeline or {}).items() if isinstance(step, dict)}
    return {"id": str(item.id), "plan_id": str(item.plan_id), "scheduled_at": iso(item.scheduled_at),
            "platform": item.platform, "status": item.status, "topic": clean_text(item.topic, data_dir),
            "hook": item.hook, "caption": item.caption, "hashtags": list(item.hashtags or []),
            "steps": clean_value(steps, data_dir)}


def sse_id(event: Event) -> str:
    """The SSE ``id:`` of an event: its time in microseconds (where a resume starts) and its id."""
    return f"{round(event.at.timestamp() * 1_000_000)}.{event.id}"


def resume_point(given: str | None) -> datetime | None:
    """Where ``Last-Event-ID`` (an ``sse_id``) or ``?since=`` (that, or an ISO time) says to go
    on from; None when absent or unreadable (then the stream starts now)."""
    text = (given or "").strip()
    if not text:
        return None
    head = text.split(".", 1)[0]
    if head.isdigit():
        return datetime.fromtimestamp(int(head) / 1_000_000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class EventFeed:
    """A workspace's events read from the rows themselves, poll after poll (``/events``): every
    job change (progress while active, the outcome at the end) and every plan item that became
    ready. Rows are read again a little behind the newest one seen (a server's transactions may
    commit out of order: snapshot.OVERLAP) and each row version is told once."""

    def __init__(self, db: Database, workspace_id: uuid.UUID, since: datetime,
                 data_dir: Path | None = None) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self.data_dir = data_dir
        self._floor = since  # nothing at or before the resume point is told again
        self._newest = since
        self._told: dict[str, datetime] = {}  # event ids told, with their time (forgotten later)
        self._ready_items: set[uuid.UUID] = set()

    def poll(self) -> list[Event]:
        """The events since the last poll, oldest first."""
        start = max(self._floor, self._newest - OVERLAP)
        with self.db.session() as session:
            jobs = session.scalars(select(Job).where(Job.workspace_id == self.workspace_id,
                                                     Job.updated_at > start)
                                   .order_by(Job.updated_at).limit(FIRST_READ_LIMIT)).all()
            items = session.scalars(select(PlanItem).where(
                PlanItem.workspace_id == self.workspace_id, PlanItem.status == PLAN_ITEM_READY_STATUS,
                PlanItem.updated_at > start).order_by(PlanItem.updated_at)).all()
            found = [job_event(job, self.data_dir) for job in jobs]
            found += [plan_item_event(item, self.data_dir) for item in items
                      if item.id not in self._ready_items]
            self._ready_items.update(item.id for item in items)
        fresh = sorted((e for e in found if e.id not in self._told), key=lambda e: e.at)
        for event in fresh:
            self._told[event.id] = event.at
            self._newest = max(self._newest, event.at)
        self._told = {k: at for k, at in self._told.items() if at >= self._newest - 2 * OVERLAP}
        return fresh
