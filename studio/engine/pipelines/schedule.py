"""The minutely run: plan, produce ahead, publish at the time.

The worker's pipeline queue has a Huey periodic task that calls ``run_minute`` every minute. Each
call, in this order:

- daily schedules whose hour has come plan tomorrow's posts (``daily_plans``);
- at ``pipeline.daily_at`` (local time, empty: off) today's approved posts start producing,
  staggered by ``pipeline.stagger_minutes`` (the older daily run, kept as it was);
- an approved post whose time is within ``pipeline.produce_ahead_hours`` starts producing
  (0: off), so it is finished when its time comes;
- a finished post whose time has come is posted: ``publish.<platform>.enabled`` on, a
  ``publish-post`` job; off, it is recorded as left ready for posting by hand.

Several workers may run this at once (team mode). Each post is claimed before it is acted on
by one UPDATE conditional on the version read, and only the worker whose UPDATE changed the row
goes on: to produce, the claim moves the post to ``producing``; to publish, it marks the post as
being handed over, which keeps other workers off it for ``HANDOVER_HOLD`` (a worker that died
after claiming leaves a mark that runs out, and the next minute after that takes the post). The
publish service is idempotent per post and platform besides. Posts whose time passed more than
a day ago are left to the user (``timing.LATE_LIMIT``).
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import Row, exists, or_, select, update

from studio.engine.core import Studio
from studio.engine.db.database import rows_changed
from studio.engine.db.models import Job, PlanItem, Publication
from studio.engine.errors import StudioError
from studio.engine.pipelines.daily_plans import run_daily_plans
from studio.engine.pipelines.service import submit_pipeline
from studio.engine.pipelines.timing import local, produce_window, publish_window
from studio.engine.publish.clients import platform_name
from studio.engine.publish.service import record_refusal, submit_publish

log = logging.getLogger("studio.pipelines")
T = TypeVar("T")
# The time a worker took a finished post to hand it to publishing, kept in its pipeline record.
HANDOVER = "scheduled_handover"
HANDOVER_HOLD = timedelta(minutes=10)
Due = Row[uuid.UUID, uuid.UUID, int, str]  # workspace, item, version, platform


@dataclass(frozen=True, slots=True)
class MinuteReport:
    """What one minutely run started; empty lists when nothing was due."""

    planned: list[Job]  # generate-plan jobs of daily schedules
    produced: list[Job]  # run-pipeline jobs
    published: list[uuid.UUID]  # posts handed to publishing (a job, or left for posting by hand)


def run_minute(studio: Studio, now: datetime | None = None) -> MinuteReport:
    """Everything due at ``now`` (default: the clock), each post once however many workers run."""
    moment = local(now)
    planned = _guarded("daily plans", lambda: run_daily_plans(studio, moment))
    produced = (_guarded("daily run", lambda: run_daily(studio, moment))
                + _guarded("produce ahead", lambda: produce_ahead(studio, moment)))
    return MinuteReport(planned, produced, _guarded("publish", lambda: publish_due(studio, moment)))


def _guarded(step: str, run: Callable[[], list[T]]) -> list[T]:
    """One step's failure (the database busy, say) is logged and leaves the others to run."""
    try:
        return run()
    except StudioError as exc:
        log.error("the minutely run's %s step failed: %s", step, exc)
        return []


def daily_time(studio: Studio) -> time | None:
    raw = studio.settings.pipeline.daily_at.strip()
    return time.fromisoformat(raw) if raw else None


def due_items(studio: Studio, now: datetime) -> Sequence[Due]:
    """Every approved post timed on ``now``'s local day, in time order."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return _items(studio, "approved", day_start, day_start + timedelta(days=1), end_open=True)


def run_daily(studio: Studio, now: datetime | None = None) -> list[Job]:
    """Starts today's pipelines when ``pipeline.daily_at`` has come; returns the jobs it queued."""
    at = daily_time(studio)
    moment = local(now)
    if at is None or moment.time() < at:
        return []
    stagger = timedelta(minutes=studio.settings.pipeline.stagger_minutes)
    started: list[Job] = []
    for due in due_items(studio, moment):
        job = _produce(studio, due, not_before=moment + stagger * len(started) if started else None)
        if job is not None:
            started.append(job)
    if started:
        log.info("daily run started %d pipeline(s)", len(started))
    return started


def produce_ahead(studio: Studio, now: datetime) -> list[Job]:
    """Starts every approved post timed within the produce-ahead hours (or late by under a day)."""
    hours = studio.settings.pipeline.produce_ahead_hours
    if hours <= 0:
        return []
    start, end = produce_window(now, hours)
    started = [job for due in _items(studio, "approved", start, end)
               if (job := _produce(studio, due)) is not None]
    if started:
        log.info("produce-ahead started %d pipeline(s)", len(started))
    return started


def publish_due(studio: Studio, now: datetime) -> list[uuid.UUID]:
    """Posts every finished post whose time has come and that has no publication yet."""
    done: list[uuid.UUID] = []
    for item in _ready_items(studio, now):
        if not claim_publishing(studio, item, now):
            continue  # another worker took it
        try:
            target = platform_name(item.platform)
            manual = not _publishing_on(studio, target)
            submit_publish(studio, item.id, target, manual=manual)
        except StudioError as exc:  # not connected, say: tried again when the hold is over
            log.warning("post %s was not handed to publishing: %s", item.id, exc)
            _note_refusal(studio, item, str(exc))
            continue
        log.info("post %s %s", item.id,
                 "left ready for posting by hand" if manual else f"queued for {target}")
        done.append(item.id)
    return done


def _note_refusal(studio: Studio, item: PlanItem, reason: str) -> None:
    """Shown on the post (its platform's state), not only in the worker's log."""
    try:
        record_refusal(studio, item.id, item.platform, reason)
    except StudioError as exc:  # an unknown platform name, the database busy
        log.error("post %s: the refusal was not recorded: %s", item.id, exc)


def claim_production(studio: Studio, item_id: uuid.UUID, version: int) -> bool:
    """Approved → producing, from the version read; True for the one caller whose UPDATE did it."""
    with studio.db.session() as session:
        result = session.execute(update(PlanItem)
                                 .where(PlanItem.id == item_id, PlanItem.version == version,
                                        PlanItem.status == "approved")
                                 .values(status="producing", version=version + 1)
                                 .execution_options(synchronize_session=False))
        return rows_changed(result) == 1


def claim_publishing(studio: Studio, item: PlanItem, now: datetime) -> bool:
    """Marks the post as being handed over (in its pipeline record), from the version read; True
    for the one caller whose UPDATE did it. The mark keeps other workers off it for a while."""
    mark = {**(item.pipeline or {}), HANDOVER: now.astimezone(UTC).isoformat()}
    with studio.db.session() as session:
        result = session.execute(update(PlanItem)
                                 .where(PlanItem.id == item.id, PlanItem.version == item.version)
                                 .values(pipeline=mark, version=item.version + 1)
                                 .execution_options(synchronize_session=False))
        return rows_changed(result) == 1


def _produce(studio: Studio, due: Due, *, not_before: datetime | None = None) -> Job | None:
    workspace_id, item_id, version, _ = due
    if not claim_production(studio, item_id, version):
        return None  # another worker took it
    try:
        return submit_pipeline(studio, workspace_id, item_id, not_before=not_before)
    except StudioError as exc:  # not producible (its platform, a running pipeline)
        log.info("post %s was not started: %s", item_id, exc)
        with studio.db.session() as session:  # as it was, for the user or the next minute
            session.execute(update(PlanItem).where(PlanItem.id == item_id,
                                                   PlanItem.status == "producing")
                            .values(status="approved", version=PlanItem.version + 1)
                            .execution_options(synchronize_session=False))
        return None


def _items(studio: Studio, status: str, start: datetime, end: datetime, *,
           end_open: bool = False) -> Sequence[Due]:
    before = PlanItem.scheduled_at < end if end_open else PlanItem.scheduled_at <= end
    query = (select(PlanItem.workspace_id, PlanItem.id, PlanItem.version, PlanItem.platform)
             .where(PlanItem.status == status, PlanItem.deleted_at.is_(None),
                    PlanItem.scheduled_at >= start, before)
             .order_by(PlanItem.scheduled_at))
    with studio.db.session() as session:
        return session.execute(query).all()


def _ready_items(studio: Studio, now: datetime) -> list[PlanItem]:
    """Finished posts timed in the publish window, with no publication (but one refused before
    any job: no account connected, say) and no fresh hand-over mark (one older than
    ``HANDOVER_HOLD`` is from a worker that stopped before handing over)."""
    start, end = publish_window(now)
    taken = exists().where(Publication.plan_item_id == PlanItem.id,
                           or_(Publication.status != "failed", Publication.job_id.is_not(None)))
    query = (select(PlanItem)
             .where(PlanItem.status == "ready", PlanItem.deleted_at.is_(None),
                    PlanItem.scheduled_at >= start, PlanItem.scheduled_at <= end, ~taken)
             .order_by(PlanItem.scheduled_at))
    with studio.db.session() as session:
        items = session.scalars(query).all()
    return [i for i in items if _handover_mark(i) < now - HANDOVER_HOLD]


def _handover_mark(item: PlanItem) -> datetime:
    raw = (item.pipeline or {}).get(HANDOVER)
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else datetime.min.replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _publishing_on(studio: Studio, platform: str) -> bool:
    section = getattr(studio.settings.publish, platform, None)
    return bool(getattr(section, "enabled", False))
