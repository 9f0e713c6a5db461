"""Daily schedules (the seed's n8n cron): each day at its hour, tomorrow's posts are planned.

A ``ProductionSchedule`` row per influencer says when (``at``, local HH:MM), how many posts on
which platforms, and whether they are approved at once. At that hour the minutely run
(``schedule.run_minute``) submits the ordinary ``generate-plan`` job for tomorrow — the same job
and budget checks as ``plan generate`` — with the schedule's id in its payload. Its posts wait
on the Plans page for approval, or, with auto-approve, are approved as they are written and the
produce-ahead step makes them before their time.

A slot (one schedule, one local day) runs once however many workers look: a worker claims it
by moving ``last_slot`` to today with one conditional UPDATE and acts only when that UPDATE
changed the row. The row is the only state, so a restart neither loses nor repeats a slot.
What a slot did is its job: a plan refused for the budget is a failed job whose error says so;
a plan that could not even be asked for (no model chosen, say) is recorded as a failed job too.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from studio.engine.core import Studio
from studio.engine.db.database import rows_changed
from studio.engine.db.models import Influencer, Job, ProductionSchedule
from studio.engine.db.repositories import Repository
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound, ServiceUnavailable, StudioError
from studio.engine.jobs.payloads import encode
from studio.engine.jobs.status import JobStatus
from studio.engine.pipelines.timing import parse_at, slot_due
from studio.engine.plans.payloads import PlanPayload
from studio.engine.plans.service import GENERATE_JOB, MAX_PER_DAY, check_platforms, submit_generate_plan

log = logging.getLogger("studio.pipelines")


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    """What ``set_schedule`` changes; None keeps the current value (or the default, when new)."""

    at: str | None = None
    posts_per_day: int | None = None
    platforms: Sequence[str] | None = None
    auto_approve: bool | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule as ``plan schedule list`` and the Plans page show it, with its last run."""

    id: uuid.UUID
    influencer_id: uuid.UUID
    influencer: str
    at: str
    posts_per_day: int
    platforms: tuple[str, ...]
    auto_approve: bool
    enabled: bool
    last_slot: date | None
    last_job: Job | None  # the plan job of its latest slot

    @property
    def last_run(self) -> str:
        """The latest slot and what came of it in one line: 'never', or the day and the outcome."""
        if self.last_slot is None:
            return "never"
        job = self.last_job
        if job is None:
            return f"{self.last_slot}: nothing planned"
        failed = job.status == JobStatus.FAILED and job.error
        return f"{self.last_slot}: {f'failed: {job.error}' if failed else job.status}"


def set_schedule(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID,
                 change: ScheduleChange) -> ProductionSchedule:
    """Creates the influencer's schedule or changes it; every value is checked first."""
    fields = _checked(change)
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        repo.get(Influencer, influencer_id)  # this workspace's, not in the trash
        current = _schedule_of(session, workspace_id, influencer_id)
        if current is None:
            fields.setdefault("platforms", ["instagram"])
            return repo.add(ProductionSchedule(influencer_id=influencer_id, **fields))
        return repo.update(current, **fields)


def remove_schedule(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> None:
    with studio.db.session() as session:
        current = _schedule_of(session, workspace_id, influencer_id)
        if current is None:
            raise NotFound("This influencer has no daily schedule.")
        session.delete(current)


def get_schedule(studio: Studio, workspace_id: uuid.UUID,
                 influencer_id: uuid.UUID) -> ProductionSchedule | None:
    with studio.db.session() as session:
        return _schedule_of(session, workspace_id, influencer_id)


def list_schedules(studio: Studio, workspace_id: uuid.UUID) -> list[ScheduleView]:
    query = (select(ProductionSchedule, Influencer.name)
             .join(Influencer, Influencer.id == ProductionSchedule.influencer_id)
             .where(ProductionSchedule.workspace_id == workspace_id, Influencer.deleted_at.is_(None))
             .order_by(Influencer.name))
    with studio.db.session() as session:
        return [ScheduleView(s.id, s.influencer_id, name, s.at, s.posts_per_day,
                             tuple(s.platforms or ()), s.auto_approve, s.enabled, s.last_slot,
                             last_job(session, s.id))
                for s, name in session.execute(query)]


def schedule_view(studio: Studio, workspace_id: uuid.UUID, influencer_id: uuid.UUID) -> ScheduleView | None:
    return next((v for v in list_schedules(studio, workspace_id) if v.influencer_id == influencer_id), None)


def last_job(session: Session, schedule_id: uuid.UUID) -> Job | None:
    """The newest plan job a schedule asked for, found by its payload (JSON path)."""
    return session.scalars(select(Job).where(
        Job.type == GENERATE_JOB, Job.payload["schedule_id"].as_string() == str(schedule_id))
        .order_by(Job.created_at.desc()).limit(1)).first()


def run_daily_plans(studio: Studio, now: datetime) -> list[Job]:
    """Plans tomorrow for every enabled schedule whose hour has come today; ``now`` is local."""
    with studio.db.session() as session:
        schedules = session.scalars(select(ProductionSchedule)
                                    .where(ProductionSchedule.enabled.is_(True))).all()
    jobs: list[Job] = []
    for schedule in schedules:
        try:
            today = slot_due(parse_at(schedule.at), schedule.last_slot, now)
        except InvalidInput as exc:  # a row written by hand; set_schedule refuses such times
            log.warning("daily schedule %s is skipped: %s", schedule.id, exc)
            continue
        if today is None or not claim_slot(studio, schedule.id, today):
            continue
        job = _plan_tomorrow(studio, schedule, today)
        if job is not None:
            jobs.append(job)
    return jobs


def claim_slot(studio: Studio, schedule_id: uuid.UUID, today: date) -> bool:
    """True for the one caller that moved ``last_slot`` to ``today``."""
    with studio.db.session() as session:
        result = session.execute(
            update(ProductionSchedule)
            .where(ProductionSchedule.id == schedule_id,
                   or_(ProductionSchedule.last_slot.is_(None), ProductionSchedule.last_slot < today))
            .values(last_slot=today, version=ProductionSchedule.version + 1)
            .execution_options(synchronize_session=False))
        return rows_changed(result) == 1


def _plan_tomorrow(studio: Studio, schedule: ProductionSchedule, today: date) -> Job | None:
    tomorrow = today + timedelta(days=1)
    with studio.db.session() as session:
        influencer = session.get(Influencer, schedule.influencer_id)
    if influencer is None or influencer.deleted_at is not None:
        log.info("daily schedule %s: its influencer is in the trash; nothing planned", schedule.id)
        return None
    try:
        job = submit_generate_plan(
            studio, schedule.workspace_id, influencer, tomorrow, 1, platforms=schedule.platforms,
            per_day=schedule.posts_per_day, auto_approve=schedule.auto_approve,
            schedule_id=schedule.id)
    except ServiceUnavailable as exc:  # the queue is down: the slot is tried again next minute
        _release_slot(studio, schedule, today)
        log.warning("daily plan for %s waits: %s", influencer.name, exc)
        return None
    except StudioError as exc:
        log.warning("daily plan for %s was not made: %s", influencer.name, exc)
        return _record_refusal(studio, schedule, influencer, tomorrow, str(exc))
    log.info("daily plan for %s on %s queued (job %s)", influencer.name, tomorrow, job.id)
    return job


def _release_slot(studio: Studio, schedule: ProductionSchedule, today: date) -> None:
    with studio.db.session() as session:
        session.execute(update(ProductionSchedule)
                        .where(ProductionSchedule.id == schedule.id,
                               ProductionSchedule.last_slot == today)
                        .values(last_slot=schedule.last_slot, version=ProductionSchedule.version + 1)
                        .execution_options(synchronize_session=False))


def _record_refusal(studio: Studio, schedule: ProductionSchedule, influencer: Influencer,
                    tomorrow: date, reason: str) -> Job:
    """A failed plan job that was never queued: the slot's outcome, kept where jobs are shown."""
    payload = PlanPayload(influencer_id=influencer.id, start=tomorrow, days=1,
                          platforms=tuple(schedule.platforms or ()), per_day=schedule.posts_per_day,
                          model=studio.settings.llm.plan_model or studio.settings.llm.model,
                          auto_approve=schedule.auto_approve, schedule_id=schedule.id)
    with studio.db.session() as session:
        job = Job(workspace_id=schedule.workspace_id, type=GENERATE_JOB, queue="general",
                  status=JobStatus.FAILED, title=f"Daily plan for {influencer.name} on {tomorrow}",
                  payload=encode(payload), error=reason, max_attempts=1, finished_at=utcnow())
        session.add(job)
    return job


def _checked(change: ScheduleChange) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if change.at is not None:
        fields["at"] = parse_at(change.at).strftime("%H:%M")
    if change.posts_per_day is not None:
        if not 1 <= change.posts_per_day <= MAX_PER_DAY:
            raise InvalidInput(f"A daily schedule plans 1 to {MAX_PER_DAY} posts a day, "
                               f"not {change.posts_per_day}.")
        fields["posts_per_day"] = change.posts_per_day
    if change.platforms is not None:
        fields["platforms"] = list(check_platforms(change.platforms))
    if change.auto_approve is not None:
        fields["auto_approve"] = change.auto_approve
    if change.enabled is not None:
        fields["enabled"] = change.enabled
    return fields


def _schedule_of(session: Session, workspace_id: uuid.UUID,
                 influencer_id: uuid.UUID) -> ProductionSchedule | None:
    return session.scalars(select(ProductionSchedule).where(
        ProductionSchedule.workspace_id == workspace_id,
        ProductionSchedule.influencer_id == influencer_id)).first()
