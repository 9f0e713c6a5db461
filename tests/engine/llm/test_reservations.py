"""Budget reservations on a real SQLite file and a real PostgreSQL server: concurrent reservers
of one workspace never take more than one reservation past the budget."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from studio.engine.db.database import Database, sqlite_url
from studio.engine.db.models import Job, LLMCall, Workspace
from studio.engine.db.repositories import Repository, Workspaces
from studio.engine.db.types import utcnow
from studio.engine.llm.budget import BudgetExceeded, budget_status, mark_stale
from studio.engine.llm.client import ChatResult
from studio.engine.llm.reservations import Intent, leave_unsettled, release, reserve, settle

BUDGET = 0.025
PER_CALL = 0.01


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (sqlite_url(tmp_path / "s.sqlite3") if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    database = Database.open(url)
    yield database
    database.dispose()


@pytest.fixture
def workspace_id(db: Database) -> uuid.UUID:
    with db.session() as session:
        workspace = Workspaces(session).create("Agency")
        workspace.monthly_budget_usd = BUDGET
        return workspace.id


def intent(workspace_id: uuid.UUID, job_id: uuid.UUID | None = None) -> Intent:
    return Intent(workspace_id, ("openai/gpt-4o-mini",), "plan", job_id)


def answer(cost: float) -> ChatResult:
    return ChatResult("{}", "openai/gpt-4o-mini", 900, 40, cost, "gen-1")


def ledger(db: Database) -> list[LLMCall]:
    with db.session() as session:
        return list(session.scalars(select(LLMCall).order_by(LLMCall.created_at)))


def test_concurrent_reservers_stop_one_reservation_past_the_budget(
        db: Database, workspace_id: uuid.UUID) -> None:
    racers = 8
    start = threading.Barrier(racers)
    outcomes: list[str] = []

    def race() -> None:
        start.wait()
        try:
            reserve(db, intent(workspace_id), PER_CALL, wait_s=0)
            outcomes.append("reserved")
        except BudgetExceeded as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("reserved") == 3  # at 0, 0.01 and 0.02 spend was below 0.025
    refusals = [o for o in outcomes if o != "reserved"]
    assert len(refusals) == 5 and all("held by calls still under way" in r for r in refusals)
    rows = ledger(db)
    assert [r.state for r in rows] == ["reserved"] * 3
    spent = budget_status(db, workspace_id)
    assert spent.spent_usd == pytest.approx(0.03) and spent.spent_usd <= BUDGET + PER_CALL
    assert spent.reserved_usd == pytest.approx(0.03) and "reserved by calls under way" in spent.line


def test_a_waiting_call_goes_ahead_once_the_others_settle_below_their_reservation(
        db: Database, workspace_id: uuid.UUID) -> None:
    first = reserve(db, intent(workspace_id), 0.03, wait_s=0)  # holds more than the budget

    def while_waiting(_seconds: float) -> None:
        settle(db, first, answer(0.01), 0.01)  # the first call ends, cheaper than reserved

    second = reserve(db, intent(workspace_id), PER_CALL, wait_s=60, sleep=while_waiting)
    assert second.amount_usd == PER_CALL
    assert [(r.state, r.cost_usd) for r in ledger(db)] == [("settled", 0.01), ("reserved", 0.01)]
    settle(db, second, answer(0.012), 0.012)
    third = reserve(db, intent(workspace_id), PER_CALL, wait_s=0)  # 0.022 is below the budget
    settle(db, third, answer(0.01), 0.01)
    with pytest.raises(BudgetExceeded, match="used up"):  # settled spend alone is over: no wait
        reserve(db, intent(workspace_id), PER_CALL, wait_s=60)
    assert budget_status(db, workspace_id).spent_usd == pytest.approx(0.032)


def test_settle_release_and_unsettled_keep_the_job_cost_right(
        db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session:
        job = Repository(session, workspace_id).add(Job(type="generate-plan", queue="general", payload={}))
        job_id = job.id
    paid = reserve(db, intent(workspace_id, job_id), PER_CALL, wait_s=0)
    settle(db, paid, answer(0.004), 0.004)
    refused = reserve(db, intent(workspace_id, job_id), PER_CALL, wait_s=0)
    release(db, refused)
    lost = reserve(db, intent(workspace_id, job_id), PER_CALL, wait_s=0)
    leave_unsettled(db, lost)  # sent, never answered: may have been paid
    assert [(r.state, r.cost_usd) for r in ledger(db)] == [
        ("settled", 0.004), ("released", 0.0), ("unsettled", PER_CALL)]
    with db.session() as session:
        assert session.get(Job, job_id).cost_usd == pytest.approx(0.014)  # type: ignore[union-attr]
    assert budget_status(db, workspace_id).spent_usd == pytest.approx(0.014)


def test_a_reservation_left_by_a_dead_process_counts_as_spent(
        db: Database, workspace_id: uuid.UUID) -> None:
    reserve(db, intent(workspace_id), PER_CALL, wait_s=0)
    with db.session() as session:
        assert mark_stale(session, workspace_id) == 0  # young: its call may still be under way
        call = session.scalars(select(LLMCall)).one()
        call.created_at = utcnow() - timedelta(hours=1)
    status = budget_status(db, workspace_id)  # the next read marks it
    assert status.spent_usd == pytest.approx(PER_CALL) and status.reserved_usd == 0
    assert [(r.state, r.cost_usd) for r in ledger(db)] == [("unsettled", PER_CALL)]


def test_an_unpriced_model_reserves_what_is_left_then_its_dearest_call(
        db: Database, workspace_id: uuid.UUID) -> None:
    first = reserve(db, intent(workspace_id), None, wait_s=0)
    assert first.amount_usd == pytest.approx(BUDGET)  # others wait until its cost is known
    settle(db, first, answer(0.006), 0.006)
    assert reserve(db, intent(workspace_id), None, wait_s=0).amount_usd == pytest.approx(0.006)
    with db.session() as session:
        session.get(Workspace, workspace_id).monthly_budget_usd = None  # type: ignore[union-attr]
    other = Intent(workspace_id, ("meta/llama",), "caption")
    assert reserve(db, other, None, wait_s=0).amount_usd == 0.0  # no budget, no history
