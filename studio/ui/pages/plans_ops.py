"""What the Plans page asks of the engine: blocking calls, run on background lanes only.

Each takes the studio and the workspace and returns plain values the UI thread can show; the
lines the page shows for a finished plan job are made here too.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.influencers import list_influencers
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.budget import BudgetStatus, budget_status
from studio.engine.plans import service
from studio.engine.plans.estimate import PlanEstimate, estimate_plan
from studio.ui.error_actions import for_window
from studio.ui.widgets.plan_form import PlanOrder

BUDGET_COLOURS = {"warning": "#b7791f", "exceeded": "#c0392b"}


@dataclass(frozen=True, slots=True)
class Overview:
    influencers: Sequence[Influencer]
    plans: list[service.PlanSummary]
    budget: BudgetStatus


def overview(studio: Studio, workspace_id: uuid.UUID) -> Overview:
    return Overview(list_influencers(studio, workspace_id), service.list_plans(studio, workspace_id),
                    budget_status(studio.db, workspace_id))


def estimate(studio: Studio, workspace_id: uuid.UUID, person_id: uuid.UUID,
             order: PlanOrder) -> PlanEstimate:
    return estimate_plan(studio, workspace_id, person_id, order.start, order.days,
                         platforms=order.platforms, per_day=order.per_day, brief=order.brief)


def submit_plan(studio: Studio, workspace_id: uuid.UUID, person_id: uuid.UUID,
                order: PlanOrder) -> uuid.UUID:
    person = next(i for i in list_influencers(studio, workspace_id) if i.id == person_id)
    return service.submit_generate_plan(
        studio, workspace_id, person, order.start, order.days, platforms=order.platforms,
        per_day=order.per_day, brief=order.brief).id


def submit_regenerate(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID,
                      instruction: str) -> uuid.UUID:
    item = service.find_item(studio, workspace_id, str(item_id))
    return service.submit_regenerate_item(studio, workspace_id, item, instruction=instruction).id


def finished_line(job: JobSnapshot) -> str:
    """'Done with <model>: $0.0030, 2 answer(s) from the cache.' plus the job's warnings."""
    result = job.result or {}
    if job.status is not JobStatus.COMPLETED:
        return f"The job {job.status}: {for_window(job.error or job.message).text}"
    hits = f", {result.get('cache_hits')} answer(s) from the cache" if result.get("cache_hits") else ""
    text = f"Done with {result.get('model', 'the model')}: ${float(result.get('cost_usd', 0)):.4f}{hits}."
    return " ".join([text, *(result.get("warnings") or [])])


def made_plan(job: JobSnapshot) -> str | None:
    """The plan a finished generate-plan job made, to select it."""
    if job.status is not JobStatus.COMPLETED or not job.result:
        return None
    return str(job.result.get("plan_id") or "") or None


def new_plan(job: JobSnapshot) -> str | None:
    """The plan a finished generate-plan job made (a rewritten post's job names its plan too)."""
    return made_plan(job) if job.result and "items" in job.result else None


def budget_style(status: BudgetStatus) -> str:
    """Amber at 80 %, red when paid calls are refused."""
    colour = BUDGET_COLOURS.get(status.level)
    return f"color: {colour}; font-weight: bold;" if colour else ""

