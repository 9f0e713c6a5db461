"""The workspace's monthly LLM budget and the spend ledger it is measured against.

Months are calendar months in UTC. At 80 % of the budget a warning is raised (the status bar
reads ``budget_status``; jobs record it); at 100 % new paid calls are refused with one line,
while answers from the cache, which cost nothing, still go through. Spend is what settled calls
cost plus what calls under way have reserved (``reservations``), so however many processes
ask at once, spend ends at most one call's reservation above the budget.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from studio.engine.db.database import Database
from studio.engine.db.models import Influencer, Job, LLMCall, Workspace
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.jobs.errors import JobFailed
from studio.engine.llm.client import CALL_DEADLINE_S, READ_S

WARN_AT = 0.8
# Ledger states of a call: see LLMCall.state.
RESERVED, SETTLED, RELEASED, UNSETTLED = "reserved", "settled", "released", "unsettled"
# No call lasts longer than the client's bound (client.py); a reservation older than this
# belongs to a process that stopped mid-request.
STALE_AFTER_S = CALL_DEADLINE_S + READ_S + 60
log = logging.getLogger("studio.llm")
SET_BUDGET_HINT = "`influencerai-studio spend budget USD`"


class BudgetExceeded(JobFailed):
    """The workspace's monthly budget is used up: no new paid calls this month."""


def usd(amount: float) -> str:
    """Dollars with the precision the amount has: $0.025, $0.0042, $0.75, $1,250.00. Cents
    would hide a plan's cost (a few tenths of a cent) and round a $0.025 budget up."""
    places = 4 if abs(amount) >= 0.01 or amount == 0 else 6
    text = f"{amount:,.{places}f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    workspace: str
    month: str  # YYYY-MM
    spent_usd: float  # settled calls plus reservations of calls under way
    budget_usd: float | None  # None: no budget set
    reserved_usd: float = 0.0  # the part of spent_usd held by calls under way

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
        spent = usd(self.spent_usd)
        if self.reserved_usd > 0:
            spent += f" ({usd(self.reserved_usd)} of it reserved by calls under way)"
        if self.budget_usd is None:
            return f"LLM spend in {self.month}: {spent} (no monthly budget set)"
        budget = usd(self.budget_usd)
        share = f"{spent} of {budget} ({self.fraction:.0%})"
        if self.level == "exceeded":
            return (f"The monthly LLM budget of workspace '{self.workspace}' is used up: {share} "
                    f"in {self.month}. Paid calls are refused until next month or until the "
                    f"budget is raised with {SET_BUDGET_HINT}.")
        if self.level == "warning":
            return (f"Warning: workspace '{self.workspace}' has used {share} of its monthly LLM "
                    f"budget in {self.month}.")
        return f"LLM spend in {self.month}: {spent} of the {budget} monthly budget ({self.fraction:.0%})"


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
    """What the status bar shows; cheap (one sum over this month's rows). Reservations left by
    a process that died are marked as spent here (they count the same either way)."""
    with db.session() as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound("This workspace no longer exists.")
        mark_stale(session, workspace_id)
        return status_in(session, workspace, day or today_utc())


def status_in(session: Session, workspace: Workspace, day: date) -> BudgetStatus:
    """The month's spend read in the caller's transaction (under its lock, if it holds one)."""
    first, following = month_bounds(day)
    total, reserved = session.execute(
        select(func.coalesce(func.sum(LLMCall.cost_usd), 0.0),
               func.coalesce(func.sum(case((LLMCall.state == RESERVED, LLMCall.cost_usd), else_=0.0)), 0.0))
        .where(LLMCall.workspace_id == workspace.id, LLMCall.day >= first,
               LLMCall.day < following)).one()
    return BudgetStatus(workspace.name, first.strftime("%Y-%m"), float(total or 0.0),
                        workspace.monthly_budget_usd, float(reserved or 0.0))


def mark_stale(session: Session, workspace_id: uuid.UUID, stale_after_s: float = STALE_AFTER_S) -> int:
    """Reservations older than any call can last belong to a process that died mid-request:
    the call may have been paid, so it stays counted at its reservation, marked unsettled, and
    its job carries the cost. Returns how many were marked."""
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    stale = list(session.scalars(select(LLMCall).where(
        LLMCall.workspace_id == workspace_id, LLMCall.state == RESERVED, LLMCall.created_at < cutoff)))
    for call in stale:
        call.state = UNSETTLED
        add_job_cost(session, call.job_id, call.cost_usd)
    if stale:
        log.warning("%d LLM call(s) never settled (their process stopped mid-request); counted "
                    "at their reservation", len(stale))
    return len(stale)


def add_job_cost(session: Session, job_id: uuid.UUID | None, usd: float) -> None:
    if job_id is None or usd == 0:
        return
    job = session.get(Job, job_id)
    if job is not None:
        job.cost_usd = max(0.0, (job.cost_usd or 0.0) + usd)


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
    """One settled ledger row (an answer from the cache, or a call made outside the budget's
    reservations), and the cost added to its job, in one transaction."""
    if not 0 <= call.cost_usd < float("inf"):  # also NaN: never a negative or broken spend
        raise InvalidInput(f"A call's cost must be a number of 0 or more, not {call.cost_usd}.")
    with db.session() as session:
        session.add(LLMCall(
            workspace_id=call.workspace_id, day=today_utc(), model=call.model,
            purpose=call.purpose, job_id=call.job_id, influencer_id=call.influencer_id,
            prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
            cost_usd=call.cost_usd, cached=call.cached, generation_id=call.generation_id))
        add_job_cost(session, call.job_id, call.cost_usd)


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
                    LLMCall.day < following, LLMCall.state != RELEASED)
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
