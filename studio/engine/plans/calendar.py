"""Plan items by day, for the calendar: one query over every plan of an influencer (or all).

Days are the user's local days; a post at 00:30 local time belongs to that day even when it
is the day before in UTC. Moving a post to another day keeps its local time of day.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Influencer, PlanItem
from studio.engine.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class CalendarRow:
    item: PlanItem
    influencer_id: uuid.UUID
    influencer: str


# Posts are planned for days a creator can publish on. The bounds also keep every sum of a day
# and an offset (a time zone, the plan's length) clear of the calendar's end at year 9999.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def check_plan_days(start: date, days: int) -> None:
    """Refuses a plan whose days would fall outside FIRST_DAY..LAST_DAY, in one line."""
    if not FIRST_DAY <= start <= LAST_DAY - timedelta(days=max(0, days - 1)):
        raise InvalidInput(f"A plan's days must fall between {FIRST_DAY.isoformat()} and "
                           f"{LAST_DAY.isoformat()}; {days} day(s) from {start.isoformat()} do not.")


def check_plan_moment(moment: datetime) -> datetime:
    """A post's time within the plan's bounds (an aware datetime), else InvalidInput."""
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise InvalidInput(f"A post's date must fall between {FIRST_DAY.isoformat()} and "
                           f"{LAST_DAY.isoformat()}, not {moment.date().isoformat()}.")
    return moment


def local_start(day: date) -> datetime:
    """Midnight of ``day`` on this machine, in UTC."""
    return datetime.combine(day, time()).astimezone().astimezone(UTC)


def items_between(studio: Studio, workspace_id: uuid.UUID, first: date, last: date,
                  influencer_id: uuid.UUID | None = None) -> list[CalendarRow]:
    """Items scheduled on the local days ``first`` to ``last`` (both included), by time."""
    query = (select(PlanItem, Influencer.id, Influencer.name)
             .join(ContentPlan, ContentPlan.id == PlanItem.plan_id)
             .join(Influencer, Influencer.id == ContentPlan.influencer_id)
             .where(PlanItem.workspace_id == workspace_id, PlanItem.deleted_at.is_(None),
                    ContentPlan.deleted_at.is_(None),
                    PlanItem.scheduled_at >= local_start(first),
                    PlanItem.scheduled_at < local_start(last + timedelta(days=1)))
             .order_by(PlanItem.scheduled_at, Influencer.name))
    if influencer_id is not None:
        query = query.where(Influencer.id == influencer_id)
    with studio.db.session() as session:
        return [CalendarRow(item, person_id, name)
                for item, person_id, name in session.execute(query)]


def moved_to(scheduled_at: datetime, day: date) -> datetime:
    """The same local time of day on ``day``, in UTC (the offset of the new day, across DST)."""
    local = scheduled_at.astimezone()
    return datetime.combine(day, local.time().replace(tzinfo=None)).astimezone().astimezone(UTC)
