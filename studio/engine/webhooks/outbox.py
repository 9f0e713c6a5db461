"""Events recorded where they happen, as one delivery row per webhook that wants them.

The hooks (a job's outcome in jobs/runner.py and jobs/service.py, a plan item produced in
pipelines/run.py) run on every job's way, so with no webhook anywhere they cost one cached look
(a query at most every ``CACHE_S``); a webhook added in another process counts within that time.
The body stored is the exact text the receiver gets and the signature covers. ``WAKE`` tells
this process's delivery loop that something is waiting.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from studio.engine.db.database import Database
from studio.engine.db.models import Job, PlanItem, Webhook, WebhookDelivery
from studio.engine.db.types import utcnow
from studio.engine.events import Event, job_event, plan_item_event
from studio.engine.jobs.status import JobStatus

log = logging.getLogger("studio.webhooks")
CACHE_S = 2.0
WAKE = threading.Event()
_any: dict[str, tuple[float, bool]] = {}  # per database: (checked at, any active webhook)
_any_lock = threading.Lock()


def forget_cache() -> None:
    """A webhook was added or removed in this process: the next event looks again."""
    with _any_lock:
        _any.clear()


def any_webhooks(db: Database) -> bool:
    key = str(db.engine.url)
    now = time.monotonic()
    with _any_lock:
        known = _any.get(key)
    if known is not None and now - known[0] < CACHE_S:
        return known[1]
    with db.session() as session:
        found = session.scalar(select(Webhook.id).where(Webhook.active.is_(True)).limit(1)) is not None
    with _any_lock:
        _any[key] = (now, found)
    return found


def record(db: Database, event: Event) -> int:
    """One pending delivery per active webhook of the event's workspace that asked for its type;
    an event already recorded for a webhook is not recorded again. How many were added."""
    try:
        added = _add_deliveries(db, event)
    except IntegrityError:  # another process recorded the same event at the same moment
        return 0
    if added:
        WAKE.set()
    return added


def _add_deliveries(db: Database, event: Event) -> int:
    with db.session() as session:
        hooks = session.scalars(select(Webhook).where(Webhook.workspace_id == event.workspace_id,
                                                      Webhook.active.is_(True))).all()
        wanted = [hook.id for hook in hooks if event.type in (hook.events or ())]
        if not wanted:
            return 0
        had = set(session.scalars(select(WebhookDelivery.webhook_id).where(
            WebhookDelivery.event_id == event.id, WebhookDelivery.webhook_id.in_(wanted))).all())
        body, now = event.body(), utcnow()
        for hook_id in wanted:
            if hook_id not in had:
                session.add(WebhookDelivery(workspace_id=event.workspace_id, webhook_id=hook_id,
                                            event=event.type, event_id=event.id, body=body,
                                            next_attempt_at=now))
        return len(wanted) - len(had)


def record_job_finished(db: Database, job_id: uuid.UUID, data_dir: Path | None = None) -> None:
    """A job's outcome (completed, failed, canceled) for the webhooks that want it. Never
    raises: the outcome is already written, and a webhook's trouble must not touch the job."""
    try:
        if not any_webhooks(db):
            return
        with db.session() as session:
            job = session.get(Job, job_id)
            event = job_event(job, data_dir) if job is not None and JobStatus(job.status).finished else None
        if event is not None:
            record(db, event)
    except Exception:
        log.exception("the outcome of job %s was not recorded for its webhooks", job_id)


def record_plan_item_ready(db: Database, workspace_id: uuid.UUID, item_id: uuid.UUID,
                           data_dir: Path | None = None) -> None:
    """A plan item's production finished (plan.item.ready). Never raises, as above."""
    try:
        if not any_webhooks(db):
            return
        with db.session() as session:
            item = session.get(PlanItem, item_id)
            mine = item is not None and item.workspace_id == workspace_id
            event = plan_item_event(item, data_dir) if item is not None and mine else None
        if event is not None:
            record(db, event)
    except Exception:
        log.exception("plan item %s was not recorded as ready for its webhooks", item_id)
