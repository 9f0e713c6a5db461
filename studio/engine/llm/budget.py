"""The workspace's monthly LLM budget and the spend ledger it is measured against.

Months are calendar months in UTC. At 80 % of the budget a warning is raised (the status bar
reads ``budget_status``; jobs record it); at 100 % new paid calls are refused with one line,
while answers from the cache, which cost nothing, still go through. Two jobs that check at the
same moment may both make one last call, so spend can end slightly above the budget.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import case, func, select

from studio.engine.db.database import Database
from studio.engine.db.models import Influencer, Job, LLMCall, Workspace
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.jobs.errors import JobFailed

WARN_AT = 0.8
SET_BUDGET_HINT = "`influencerai-studio spend budget USD`"


class BudgetExceeded(JobFailed):
    """The workspace's monthly budget is used up: no new paid calls this month."""


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    workspace: str
    month: str  # YYYY-MM
    spent_usd: float
    budget_usd: float | None  # None: no budget set

    @property
    def fraction(self) -> float | None:
        if self.budget_usd is None:
            return None
        return self.spent_usd / self.budget_usd if self.budget_usd > 0 else 1.0

    @property
    def level(self) -> str:
        """none (no budget), ok, warning (80 % and more) or exceeded (100 %)."""
        fraction = self.fraction
        if fraction is None:
            return "none"
        return "exceeded" if fraction >= 1.0 else "warning" if fraction >= WARN_AT else "ok"

    @property
    def line(self) -> str:
        """One line for the status bar, a job's record or the command line."""
        # Cents hide a plan's cost (a few tenths of a cent), so small sums get four decimals.
        spent = f"${self.spent_usd:.4f}" if 0 < self.spent_usd < 0.1 else f"${self.spent_usd:.2f}"
        if self.budget_usd is None:
            return f"LLM spend in {self.month}: {spent} (no monthly budget set)"
        share = f"{spent} of ${self.budget_usd:.2f} ({self.fraction:.0%})"
        if self.level == "exceeded":
            return (f"The monthly LLM budget of workspace '{self.workspace}' is used up: {share} "
                    f"in {self.month}. Paid calls are refused until next month or until the "
                    f"budget is raised with {SET_BUDGET_HINT}.")
        if self.level == "warning":
            return (f"Warning: workspace '{self.workspace}' has used {share} of its monthly LLM "
                    f"budget in {self.month}.")
        return (f"LLM spend in {self.month}: {spent} of the ${self.budget_usd:.2f} monthly budget "
                f"({self.fraction:.0%})")


@dataclass(frozen=True, slots=True)
class SpendRow:
    key: str  # a model id, an influencer's name or a day
    calls: int
    cached_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def today_utc() -> date:
    return datetime.now(UTC).date()


def month_bounds(day: date) -> tuple[date, date]:
    """First day of the month and first day of the next."""
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def budget_status(db: Database, workspace_id: uuid.UUID, day: date | None = None) -> BudgetStatus:
    """What the status bar shows; cheap (one sum over this month's rows)."""
    first, following = month_bounds(day or today_utc())
    with db.session() as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound("This workspace no longer exists.")
        spent = session.scalar(select(func.coalesce(func.sum(LLMCall.cost_usd), 0.0)).where(
            LLMCall.workspace_id == workspace_id, LLMCall.day >= first, LLMCall.day < following))
    return BudgetStatus(workspace.name, first.strftime("%Y-%m"), float(spent or 0.0),
                        workspace.monthly_budget_usd)


def ensure_within_budget(db: Database, workspace_id: uuid.UUID) -> BudgetStatus:
    status = budget_status(db, workspace_id)
    if status.level == "exceeded":
        raise BudgetExceeded(status.line)
    return status


def set_budget(db: Database, workspace_id: uuid.UUID, usd: float | None) -> BudgetStatus:
    """``None`` removes the budget (no limit)."""
    if usd is not None and not usd >= 0:  # also refuses NaN
        raise InvalidInput(f"A budget is an amount in USD of 0 or more, not {usd}.")
    with db.session() as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound("This workspace no longer exists.")
        workspace.monthly_budget_usd = usd
    return budget_status(db, workspace_id)


@dataclass(frozen=True, slots=True)
class CallRecord:
    workspace_id: uuid.UUID
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cached: bool = False
    purpose: str = ""
    job_id: uuid.UUID | None = None
    influencer_id: uuid.UUID | None = None
    generation_id: str = ""


def record_call(db: Database, call: CallRecord) -> None:
    """One ledger row, and the cost added to its job, in one transaction: money spent is on
    record even when a later call of the same job fails."""
    with db.session() as session:
        session.add(LLMCall(
            workspace_id=call.workspace_id, day=today_utc(), model=call.model,
            purpose=call.purpose, job_id=call.job_id, influencer_id=call.influencer_id,
            prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
            cost_usd=call.cost_usd, cached=call.cached, generation_id=call.generation_id))
        if call.job_id is not None and call.cost_usd > 0:
            job = session.get(Job, call.job_id)
            if job is not None:
                job.cost_usd = (job.cost_usd or 0.0) + call.cost_usd


def spend_by(db: Database, workspace_id: uuid.UUID, what: str,
             day: date | None = None) -> list[SpendRow]:
    """This month's calls grouped by ``model``, ``influencer`` or ``day``, dearest first
    (days in order)."""
    first, following = month_bounds(day or today_utc())
    columns = {"model": LLMCall.model, "influencer": func.coalesce(Influencer.name, ""),
               "day": LLMCall.day}
    if what not in columns:
        raise InvalidInput(f"Spend can be grouped by {', '.join(columns)}, not '{what}'.")
    key = columns[what]
    query = (select(key, func.count(), func.sum(case((LLMCall.cached, 1), else_=0)),
                    func.sum(LLMCall.prompt_tokens), func.sum(LLMCall.completion_tokens),
                    func.sum(LLMCall.cost_usd))
             .select_from(LLMCall)
             .outerjoin(Influencer, Influencer.id == LLMCall.influencer_id)
             .where(LLMCall.workspace_id == workspace_id, LLMCall.day >= first,
                    LLMCall.day < following)
             .group_by(key))
    with db.session() as session:
        rows = [SpendRow(_key(k), int(n), int(c or 0), int(p or 0), int(o or 0), float(s or 0.0))
                for k, n, c, p, o, s in session.execute(query)]
    if what == "day":
        return sorted(rows, key=lambda r: r.key)
    return sorted(rows, key=lambda r: (-r.cost_usd, r.key))


def _key(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value or "")


def daily_by_model(db: Database, workspace_id: uuid.UUID,
                   day: date | None = None) -> list[tuple[date, str, float]]:
    """This month's cost per day and model, for the spending chart; days in order."""
    first, following = month_bounds(day or today_utc())
    query = (select(LLMCall.day, LLMCall.model, func.sum(LLMCall.cost_usd))
             .where(LLMCall.workspace_id == workspace_id, LLMCall.day >= first,
                    LLMCall.day < following)
             .group_by(LLMCall.day, LLMCall.model).order_by(LLMCall.day, LLMCall.model))
    with db.session() as session:
        return [(d, str(m), float(c or 0.0)) for d, m, c in session.execute(query)]
