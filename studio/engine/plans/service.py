"""Content plans: submit generation, list, find, edit an item by hand, approve.

Plans are made by the ``generate-plan`` job (studio.engine.plans.jobs); a plan and its items
are written in one transaction when the model's answer is valid, so a failed run leaves no
half plan behind.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, func, select

from studio.engine.config import Settings
from studio.engine.core import Studio
from studio.engine.db.models import Content, ContentPlan, Influencer, Job, PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.plans.calendar import check_plan_days, check_plan_moment
from studio.engine.plans.payloads import PlanPayload, RegeneratePayload
from studio.engine.plans.prompts import clean_hashtags
from studio.engine.plans.schema import EDITABLE, PLATFORMS

GENERATE_JOB = "generate-plan"
REGENERATE_JOB = "regenerate-plan-item"
MAX_DAYS = 31
MAX_PER_DAY = 4
MIN_PREFIX = 4
ContentT = TypeVar("ContentT", bound=Content)
ITEM_STATUSES = ("draft", "approved")


@dataclass(frozen=True, slots=True)
class PlanSummary:
    plan: ContentPlan
    influencer: str
    items: int
    approved: int


def plan_model(settings: Settings, model: str | None = None) -> str:
    chosen = (model or settings.llm.plan_model or settings.llm.model).strip()
    if not chosen:
        raise InvalidInput("No model chosen for content plans; set one with "
                           "`settings set llm.plan_model MODEL` (or llm.model), or pass --model.")
    return chosen


def fallback_models(settings: Settings) -> list[str]:
    return [m.strip() for m in settings.llm.fallback_models.split(",") if m.strip()]


def local_utc_offset_minutes() -> int:
    """This machine's offset now; posting times the model gives are local to the user."""
    offset = datetime.now().astimezone().utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def submit_generate_plan(studio: Studio, workspace_id: uuid.UUID, influencer: Influencer,
                         start: date, days: int, *, platforms: Sequence[str] = ("instagram",),
                         per_day: int = 1, model: str | None = None, brief: str = "",
                         use_cache: bool = True, utc_offset_minutes: int | None = None,
                         auto_approve: bool = False, schedule_id: uuid.UUID | None = None) -> Job:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"A plan covers 1 to {MAX_DAYS} days, not {days}.")
    if not 1 <= per_day <= MAX_PER_DAY:
        raise InvalidInput(f"Plan 1 to {MAX_PER_DAY} posts per day, not {per_day}.")
    check_plan_days(start, days)
    chosen = check_platforms(platforms)
    payload = PlanPayload(
        influencer_id=influencer.id, start=start, days=days, platforms=chosen, per_day=per_day,
        model=plan_model(studio.settings, model), brief=brief.strip(), use_cache=use_cache,
        utc_offset_minutes=local_utc_offset_minutes() if utc_offset_minutes is None
        else utc_offset_minutes, auto_approve=auto_approve, schedule_id=schedule_id)
    return studio.jobs.submit(workspace_id, GENERATE_JOB, payload,
                              title=f"Plan {days} days for {influencer.name} from {start.isoformat()}")


def submit_regenerate_item(studio: Studio, workspace_id: uuid.UUID, item: PlanItem, *,
                           instruction: str = "", model: str | None = None,
                           use_cache: bool = True) -> Job:
    payload = RegeneratePayload(item_id=item.id, instruction=instruction.strip(),
                                model=plan_model(studio.settings, model), use_cache=use_cache)
    return studio.jobs.submit(workspace_id, REGENERATE_JOB, payload,
                              title=f"Regenerate the {item.platform} post of "
                                    f"{item.scheduled_at.date().isoformat()}")


def check_platforms(platforms: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(p.strip().lower() for p in platforms if p.strip()))
    unknown = [p for p in chosen if p not in PLATFORMS]
    if unknown or not chosen:
        raise InvalidInput(f"Platforms are {', '.join(PLATFORMS)}; "
                           f"not '{', '.join(unknown) or 'nothing'}'.")
    return chosen


def list_plans(studio: Studio, workspace_id: uuid.UUID,
               influencer_id: uuid.UUID | None = None) -> list[PlanSummary]:
    approved = func.sum(case((PlanItem.status == "approved", 1), else_=0))
    query = (select(ContentPlan, Influencer.name, func.count(PlanItem.id), approved)
             .join(Influencer, Influencer.id == ContentPlan.influencer_id)
             .outerjoin(PlanItem, (PlanItem.plan_id == ContentPlan.id) & PlanItem.deleted_at.is_(None))
             .where(ContentPlan.workspace_id == workspace_id, ContentPlan.deleted_at.is_(None))
             .group_by(ContentPlan.id, Influencer.name)
             .order_by(ContentPlan.start_date, ContentPlan.created_at))
    if influencer_id is not None:
        query = query.where(ContentPlan.influencer_id == influencer_id)
    with studio.db.session() as session:
        return [PlanSummary(plan, name, int(count), int(done or 0))
                for plan, name, count, done in session.execute(query)]


def list_items(studio: Studio, workspace_id: uuid.UUID, plan_id: uuid.UUID) -> Sequence[PlanItem]:
    with studio.db.session() as session:
        return Repository(session, workspace_id).list(PlanItem, order_by=PlanItem.scheduled_at,
                                                      plan_id=plan_id)


def find_plan(studio: Studio, workspace_id: uuid.UUID, ref: str) -> ContentPlan:
    return _by_ref(studio, workspace_id, ContentPlan, ref, "plan")


def find_item(studio: Studio, workspace_id: uuid.UUID, ref: str) -> PlanItem:
    return _by_ref(studio, workspace_id, PlanItem, ref, "plan item")


def edit_item(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID,
              changes: Mapping[str, Any], *, expected_version: int | None = None) -> PlanItem:
    """Hand edits; an approved item stays approved (the user wrote it)."""
    fields = {name: _edited(name, value) for name, value in changes.items()}
    if not fields:
        raise InvalidInput("Nothing to change; name at least one field.")
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        return repo.update(repo.get(PlanItem, item_id), expected_version=expected_version, **fields)


def set_status(studio: Studio, workspace_id: uuid.UUID, item_ids: Sequence[uuid.UUID],
               status: str) -> list[PlanItem]:
    if status not in ITEM_STATUSES:
        raise InvalidInput(f"An item's status is one of {', '.join(ITEM_STATUSES)}, not '{status}'.")
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        return [repo.update(repo.get(PlanItem, i), status=status) for i in item_ids]


def _edited(name: str, value: Any) -> Any:
    if name not in EDITABLE:
        raise InvalidInput(f"'{name}' cannot be edited; these can: {', '.join(EDITABLE)}.")
    if name == "platform":
        return check_platforms([str(value)])[0]
    if name == "hashtags":
        tags = value if isinstance(value, list) else str(value).replace(",", " ").split()
        return clean_hashtags(tags)
    if name == "scheduled_at":
        return _when(value)
    return str(value).strip()


def _when(value: Any) -> datetime:
    """An aware datetime, or 'YYYY-MM-DD HH:MM' in this machine's time zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(f"'{value}' is not a date and time; write YYYY-MM-DD HH:MM.") from None
    check_plan_moment(moment)  # before the time zone arithmetic, which fails near year 1 and 9999
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive: local time
    return moment.astimezone(UTC)


def _by_ref(studio: Studio, workspace_id: uuid.UUID, model: type[ContentT], ref: str, what: str) -> ContentT:
    """A full id, or a prefix of one that matches a single row of the workspace."""
    text = ref.strip().lower()
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        try:
            return repo.get(model, uuid.UUID(text))
        except ValueError:
            pass
        if len(text) < MIN_PREFIX:
            raise InvalidInput(f"'{ref}' is too short for a {what} id (at least {MIN_PREFIX} "
                               "characters).")
        ids = session.scalars(select(model.id).where(model.workspace_id == workspace_id,
                                                     model.deleted_at.is_(None))).all()
        matches = [i for i in ids if str(i).startswith(text)]
        if len(matches) > 1:
            raise InvalidInput(f"'{ref}' matches {len(matches)} {what}s; give more of the id.")
        if not matches:
            raise NotFound(f"No {what} with id '{ref}' in this workspace.")
        return repo.get(model, matches[0])

