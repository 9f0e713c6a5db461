"""Reserve a paid call's most possible cost before it is sent; settle or release it after.

The check and the reservation are one step that every process shares through the database:
on PostgreSQL the transaction locks the workspace's row (``SELECT … FOR UPDATE``), so reservers
of one workspace queue on it and each reads the sums its predecessors committed (READ COMMITTED
reads afresh per statement); on SQLite ``BEGIN IMMEDIATE`` takes the database's one write lock
before the sums are read, so no other process can reserve between the read and the insert.

A call may start while spend (settled costs plus reservations) is below the budget, so spend
ends at most one reservation above it. When the budget is only taken by reservations of calls
still under way, a call waits for them to settle (most cost less than their reservation) rather
than being refused at once. The reservation row is committed before the request: a process
killed mid-request leaves it, and it is counted as spent (``budget.mark_stale``).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.engine.db.database import Database
from studio.engine.db.models import LLMCall, Workspace
from studio.engine.errors import NotFound
from studio.engine.llm.budget import (
    RELEASED,
    RESERVED,
    SETTLED,
    UNSETTLED,
    BudgetExceeded,
    BudgetStatus,
    add_job_cost,
    mark_stale,
    status_in,
    today_utc,
    usd,
)
from studio.engine.llm.client import ChatResult

POLL_S = 0.25  # how often a call waiting for others to settle looks again


@dataclass(frozen=True, slots=True)
class Intent:
    """A paid call about to be made: whom it is booked to and which models may serve it."""

    workspace_id: uuid.UUID
    models: tuple[str, ...]  # the requested model first, then its fallbacks
    purpose: str = ""
    job_id: uuid.UUID | None = None
    influencer_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    id: uuid.UUID
    amount_usd: float


def reserve(db: Database, intent: Intent, amount: float | None, *, wait_s: float,
            sleep: Callable[[float], None] = time.sleep) -> Reservation:
    """Books ``amount`` (None: the price is unknown, see ``_unpriced``) or raises
    ``BudgetExceeded``; waits up to ``wait_s`` while only calls under way hold the budget."""
    deadline = time.monotonic() + wait_s
    while True:
        outcome = _try_reserve(db, intent, amount)
        if isinstance(outcome, Reservation):
            return outcome
        settled = outcome.spent_usd - outcome.reserved_usd
        budget = outcome.budget_usd or 0.0
        if settled >= budget or outcome.reserved_usd <= 0:
            raise BudgetExceeded(outcome.line)
        if time.monotonic() >= deadline:
            raise BudgetExceeded(
                f"The monthly LLM budget of workspace '{outcome.workspace}' is held by calls still "
                f"under way ({usd(outcome.reserved_usd)} reserved, {usd(settled)} spent of "
                f"{usd(budget)}); try again when they have finished.")
        sleep(POLL_S)


def settle(db: Database, reservation: Reservation, result: ChatResult, cost_usd: float) -> None:
    """The real cost replaces the reservation, on the ledger and on the job."""
    with db.session() as session:
        call = session.get(LLMCall, reservation.id)
        if call is None:  # the workspace was deleted meanwhile
            return
        counted = call.cost_usd if call.state == UNSETTLED else 0.0  # already on the job
        call.state, call.cost_usd = SETTLED, cost_usd
        call.model = result.model or call.model
        call.prompt_tokens, call.completion_tokens = result.prompt_tokens, result.completion_tokens
        call.generation_id = result.generation_id[:100]
        add_job_cost(session, call.job_id, cost_usd - counted)


def release(db: Database, reservation: Reservation) -> None:
    """Nothing was paid (refused, unreachable, an error answer): the reservation is let go."""
    with db.session() as session:
        call = session.get(LLMCall, reservation.id)
        if call is None or call.state not in (RESERVED, UNSETTLED):
            return
        if call.state == UNSETTLED:
            add_job_cost(session, call.job_id, -call.cost_usd)
        call.state, call.cost_usd = RELEASED, 0.0


def leave_unsettled(db: Database, reservation: Reservation) -> None:
    """The request went out and no answer came: it may have been paid, so it counts at its
    reservation, on the ledger and on the job."""
    with db.session() as session:
        call = session.get(LLMCall, reservation.id)
        if call is None or call.state != RESERVED:
            return
        call.state = UNSETTLED
        add_job_cost(session, call.job_id, call.cost_usd)


def _try_reserve(db: Database, intent: Intent, amount: float | None) -> Reservation | BudgetStatus:
    with db.session() as session:
        workspace = _lock(session, intent.workspace_id)
        mark_stale(session, workspace.id)
        status = status_in(session, workspace, today_utc())
        if status.budget_usd is not None and status.spent_usd >= status.budget_usd:
            return status
        if amount is None:
            amount = _unpriced(session, intent, status)
        call = LLMCall(workspace_id=workspace.id, day=today_utc(), model=intent.models[0][:200],
                       purpose=intent.purpose, job_id=intent.job_id,
                       influencer_id=intent.influencer_id, state=RESERVED, reserved_usd=amount,
                       cost_usd=amount)
        session.add(call)
        session.flush()
        return Reservation(call.id, amount)


def _lock(session: Session, workspace_id: uuid.UUID) -> Workspace:
    """Serialises reservers of this workspace across processes until the transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        # The first statement of the transaction: pysqlite has not begun one yet, and starts
        # none of its own while this one is open.
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    workspace = session.scalar(select(Workspace).where(Workspace.id == workspace_id)
                               .with_for_update())
    if workspace is None:
        raise NotFound("This workspace no longer exists.")
    return workspace


def _unpriced(session: Session, intent: Intent, status: BudgetStatus) -> float:
    """A call whose models the server does not price reserves the dearest call those models
    have made here before; the first one, with a budget set, reserves what is left of it, so
    that others wait until its real cost is known."""
    dearest = session.scalar(select(func.max(LLMCall.cost_usd)).where(
        LLMCall.workspace_id == intent.workspace_id, LLMCall.model.in_(_models(intent.models)),
        LLMCall.state == SETTLED, LLMCall.cached.is_(False)))
    if dearest:
        return float(dearest)
    if status.budget_usd is None:
        return 0.0
    return max(0.0, status.budget_usd - status.spent_usd)


def _models(models: Sequence[str]) -> list[str]:
    return [m for m in models if m]
