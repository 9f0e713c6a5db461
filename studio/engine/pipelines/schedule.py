"""The daily run: at ``pipeline.daily_at`` (local time) today's approved posts start producing.

The worker's pipeline queue has a Huey periodic task that calls ``run_daily`` every minute; it
does nothing before the time of day, and after it picks up every post of today that is approved
and not yet produced, each starting ``pipeline.stagger_minutes`` after the one before. A post
already producing, produced or failed is left alone, so the minutely check never runs one twice,
and a post approved later that day still goes out. The app runs it while open (its worker) and a
headless worker runs it unattended.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import Job, PlanItem
from studio.engine.errors import StudioError
from studio.engine.pipelines.service import submit_pipeline

log = logging.getLogger("studio.pipelines")


def daily_time(studio: Studio) -> time | None:
    raw = studio.settings.pipeline.daily_at.strip()
    return time.fromisoformat(raw) if raw else None


def due_items(studio: Studio, now: datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace, item) of every approved post scheduled for ``now``'s local day, in time order."""
    today = now.astimezone().date()
    with studio.db.session() as session:
        items = session.scalars(select(PlanItem).where(PlanItem.status == "approved",
                                                       PlanItem.deleted_at.is_(None))
                                .order_by(PlanItem.scheduled_at)).all()
        return [(i.workspace_id, i.id) for i in items if i.scheduled_at.astimezone().date() == today]


def run_daily(studio: Studio, now: datetime | None = None) -> list[Job]:
    """Starts today's pipelines when the time has come; returns the jobs it queued."""
    at = daily_time(studio)
    now = (now or datetime.now()).astimezone()
    if at is None or now.time() < at:
        return []
    stagger = timedelta(minutes=studio.settings.pipeline.stagger_minutes)
    started: list[Job] = []
    for workspace_id, item_id in due_items(studio, now):
        not_before = now + stagger * len(started) if started else None
        try:
            started.append(submit_pipeline(studio, workspace_id, item_id, not_before=not_before))
        except StudioError as exc:  # taken by another worker meanwhile, or not producible
            log.info("daily run skipped post %s: %s", item_id, exc)
    if started:
        log.info("daily run started %d pipeline(s)", len(started))
    return started
