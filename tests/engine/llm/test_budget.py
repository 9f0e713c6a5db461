"""Cache, budget and spend ledger together, on a real database against the fake OpenRouter."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Job, LLMCall
from studio.engine.errors import InvalidInput
from studio.engine.influencers import Persona, create_influencer
from studio.engine.jobs.errors import JobCanceled, JobFailed
from studio.engine.llm import LLMClient
from studio.engine.llm.budget import (
    BudgetExceeded,
    budget_status,
    daily_by_model,
    month_bounds,
    set_budget,
    spend_by,
    today_utc,
    usd,
)
from studio.engine.llm.cache import ResponseCache
from studio.engine.llm.meter import CallScope, MeteredLLM
from studio.engine.llm.reservations import Intent, reserve
from tests.fakes.openai_server import FakeOpenAI

ASK = [{"role": "user", "content": "a week of posts"}]


@pytest.fixture
def job_id(studio: Studio) -> uuid.UUID:
    workspace = studio.workspace()
    with studio.db.session() as session:
        job = Job(workspace_id=workspace.id, type="generate-plan", queue="general", title="t")
        session.add(job)
        session.flush()
        return job.id


def metered(studio: Studio, client: LLMClient, job_id: uuid.UUID | None = None, *,
            use_cache: bool = True, influencer_id: uuid.UUID | None = None) -> MeteredLLM:
    scope = CallScope(studio.workspace().id, "plan", job_id, influencer_id)
    return MeteredLLM(client, studio.db, scope, cache=ResponseCache.in_folder(studio.paths.cache_dir),
                      use_cache=use_cache)


def ledger(studio: Studio) -> list[LLMCall]:
    with studio.db.session() as session:
        return list(session.query(LLMCall).order_by(LLMCall.created_at))


def job_cost(studio: Studio, job_id: uuid.UUID) -> float:
    with studio.db.session() as session:
        return session.get(Job, job_id).cost_usd


def test_a_repeated_request_is_answered_from_the_cache_for_free(
        studio: Studio, server: FakeOpenAI, client: LLMClient, job_id: uuid.UUID) -> None:
    server.success("first answer", cost=0.0042, model="openai/gpt-4o-mini")
    llm = metered(studio, client, job_id)
    paid = llm.chat(ASK, model="openai/gpt-4o-mini", temperature=0.7)
    again = metered(studio, client, job_id).chat(ASK, model="openai/gpt-4o-mini", temperature=0.7)
    assert (paid.content, paid.cost_usd, paid.cached) == ("first answer", 0.0042, False)
    assert (again.content, again.cost_usd, again.cached) == ("first answer", 0.0, True)
    assert len(server.received) == 1
    rows = ledger(studio)
    assert [(r.cost_usd, r.cached, r.prompt_tokens) for r in rows] == [(0.0042, False, 1210),
                                                                       (0.0, True, 1210)]
    assert job_cost(studio, job_id) == pytest.approx(0.0042)
    assert budget_status(studio.db, studio.workspace().id).spent_usd == pytest.approx(0.0042)


def test_bypassing_the_cache_asks_and_pays_again(studio: Studio, server: FakeOpenAI,
                                                 client: LLMClient) -> None:
    server.success("one", cost=0.001).success("two", cost=0.002)
    metered(studio, client).chat(ASK, model="m")
    fresh = metered(studio, client, use_cache=False).chat(ASK, model="m")
    assert (fresh.content, fresh.cost_usd, fresh.cached) == ("two", 0.002, False)
    assert len(server.received) == 2
    # the bypass refreshed the stored answer
    assert metered(studio, client).chat(ASK, model="m").content == "two"


def test_warning_at_80_percent_is_recorded_on_the_job(studio: Studio, server: FakeOpenAI,
                                                      client: LLMClient, job_id: uuid.UUID) -> None:
    workspace = studio.workspace()
    set_budget(studio.db, workspace.id, 1.0)
    server.success("a", cost=0.5).success("b", cost=0.35).success("c", cost=0.01)
    llm = metered(studio, client, job_id)
    llm.chat(ASK, model="m", temperature=0.1)
    assert llm.warnings == [] and budget_status(studio.db, workspace.id).level == "ok"
    llm.chat(ASK, model="m", temperature=0.2)
    status = budget_status(studio.db, workspace.id)
    assert status.level == "warning" and status.fraction == pytest.approx(0.85)
    assert llm.warnings == [status.line] and "85%" in status.line and "Warning" in status.line
    with studio.db.session() as session:
        assert session.get(Job, job_id).message == status.line
    llm.chat(ASK, model="m", temperature=0.3)
    assert len(llm.warnings) == 1  # once per job


def test_hard_stop_at_100_percent_refuses_paid_calls_but_not_cached_ones(
        studio: Studio, server: FakeOpenAI, client: LLMClient) -> None:
    workspace = studio.workspace()
    set_budget(studio.db, workspace.id, 0.01)
    server.success("paid", cost=0.012)
    metered(studio, client).chat(ASK, model="m")  # allowed: below the budget when it started
    status = budget_status(studio.db, workspace.id)
    assert status.level == "exceeded"
    with pytest.raises(JobFailed) as info:
        metered(studio, client).chat([{"role": "user", "content": "another"}], model="m")
    assert isinstance(info.value, BudgetExceeded) and len(server.received) == 1
    text = str(info.value)
    assert "\n" not in text and "used up" in text and "$0.01" in text and "spend budget" in text
    assert metered(studio, client).chat(ASK, model="m").cached  # free answers still go through
    set_budget(studio.db, workspace.id, 5.0)  # raising it lets paid calls through again
    server.success("more")
    assert metered(studio, client).chat([{"role": "user", "content": "another"}], model="m").content == "more"


def test_spend_per_model_influencer_and_day_this_month_only(studio: Studio, server: FakeOpenAI,
                                                          client: LLMClient) -> None:
    workspace = studio.workspace()
    mia = create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia"))
    server.success("x", cost=0.003, model="openai/gpt-4o").success("y", cost=0.001, model="meta/llama")
    metered(studio, client, influencer_id=mia.id).chat(ASK, model="openai/gpt-4o")
    metered(studio, client).chat([{"role": "user", "content": "z"}], model="meta/llama")
    metered(studio, client, influencer_id=mia.id).chat(ASK, model="openai/gpt-4o")  # cached
    first, _ = month_bounds(today_utc())
    last_month = date.fromordinal(first.toordinal() - 1)
    with studio.db.session() as session:
        session.add(LLMCall(workspace_id=workspace.id, day=last_month, model="openai/gpt-4o",
                            cost_usd=9.0))
    by_model = spend_by(studio.db, workspace.id, "model")
    assert [(r.key, r.calls, r.cached_calls, r.cost_usd) for r in by_model] == [
        ("openai/gpt-4o", 2, 1, pytest.approx(0.003)), ("meta/llama", 1, 0, pytest.approx(0.001))]
    by_influencer = spend_by(studio.db, workspace.id, "influencer")
    assert [(r.key, r.cost_usd) for r in by_influencer] == [("Mia", pytest.approx(0.003)),
                                                            ("", pytest.approx(0.001))]
    assert [r.key for r in spend_by(studio.db, workspace.id, "day")] == [today_utc().isoformat()]
    assert daily_by_model(studio.db, workspace.id) == [
        (today_utc(), "meta/llama", pytest.approx(0.001)),
        (today_utc(), "openai/gpt-4o", pytest.approx(0.003))]
    assert budget_status(studio.db, workspace.id).spent_usd == pytest.approx(0.004)
    assert budget_status(studio.db, workspace.id, last_month).spent_usd == pytest.approx(9.0)


def test_no_budget_and_bad_budgets(studio: Studio) -> None:
    workspace = studio.workspace()
    status = budget_status(studio.db, workspace.id)
    assert status.level == "none" and "no monthly budget set" in status.line
    for bad in (-1.0, float("nan")):
        with pytest.raises(InvalidInput, match="0 or more"):
            set_budget(studio.db, workspace.id, bad)
    assert set_budget(studio.db, workspace.id, 0.0).level == "exceeded"  # 0: no paid calls at all
    assert set_budget(studio.db, workspace.id, None).level == "none"


def test_month_bounds_wrap_the_year() -> None:
    assert month_bounds(date(2026, 12, 31)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert month_bounds(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 3, 1))


@pytest.mark.parametrize("broken", [float("nan"), -20.0, "abc", float("inf")])
def test_a_broken_cost_is_booked_at_the_estimate_with_a_warning(
        studio: Studio, server: FakeOpenAI, client: LLMClient, job_id: uuid.UUID,
        broken: object) -> None:
    server.priced("m", prompt="0.000001", completion="0.000002")
    server.success("ok", cost=broken, prompt_tokens=1000, completion_tokens=500)
    llm = metered(studio, client, job_id)
    result = llm.chat(ASK, model="m", max_tokens=800)
    assert result.cost_usd == pytest.approx(0.002)  # 1000 × $0.000001 + 500 × $0.000002
    [warning] = llm.warnings
    assert "reported" in warning and "booked at its estimate, $0.002" in warning
    [row] = ledger(studio)
    assert (row.state, row.cost_usd) == ("settled", pytest.approx(0.002))
    assert job_cost(studio, job_id) == pytest.approx(0.002)
    assert budget_status(studio.db, studio.workspace().id).spent_usd == pytest.approx(0.002)


def test_a_broken_cost_of_an_unpriced_model_is_booked_at_its_reservation(
        studio: Studio, server: FakeOpenAI, client: LLMClient) -> None:
    workspace = studio.workspace()
    set_budget(studio.db, workspace.id, 1.0)
    server.success("a", cost=0.03).success("b", cost=float("nan"))
    metered(studio, client).chat(ASK, model="m")
    llm = metered(studio, client)
    assert llm.chat([{"role": "user", "content": "again"}], model="m").cost_usd == pytest.approx(0.03)
    assert "booked at its estimate, $0.03" in llm.warnings[0]  # the dearest call of that model
    assert budget_status(studio.db, workspace.id).spent_usd == pytest.approx(0.06)


def test_the_reservation_is_on_record_before_the_request_is_sent(
        studio: Studio, server: FakeOpenAI, client: LLMClient) -> None:
    seen: list[list[tuple[str, float]]] = []

    def answer(body: dict[str, object]) -> str:
        seen.append([(r.state, r.cost_usd) for r in ledger(studio)])  # read while the call waits
        return "done"

    server.priced("m", prompt="0", completion="0.00001")
    server.answer_with(answer, cost=0.001)
    metered(studio, client).chat(ASK, model="m", max_tokens=1000)
    assert seen == [[("reserved", pytest.approx(0.01))]]  # max_tokens × completion price
    assert [(r.state, r.cost_usd, r.reserved_usd) for r in ledger(studio)] == [
        ("settled", 0.001, pytest.approx(0.01))]


def test_a_job_that_dies_after_the_answer_does_not_pay_again(
        studio: Studio, server: FakeOpenAI, client: LLMClient, job_id: uuid.UUID) -> None:
    server.success("the plan", cost=0.01)
    with pytest.raises(OSError, match="disk full"):
        llm = metered(studio, client, job_id)
        llm.chat(ASK, model="m")
        raise OSError("disk full while saving the plan")  # the job's own work after the answer
    again = metered(studio, client, job_id).chat(ASK, model="m")  # the job runs again
    assert (again.content, again.cached, len(server.received)) == ("the plan", True, 1)
    assert budget_status(studio.db, studio.workspace().id).spent_usd == pytest.approx(0.01)


def test_a_refused_call_releases_its_reservation(studio: Studio, server: FakeOpenAI,
                                                client: LLMClient) -> None:
    server.error(401, "No auth credentials found")
    with pytest.raises(JobFailed, match="HTTP 401"):
        metered(studio, client).chat(ASK, model="m")
    assert [(r.state, r.cost_usd) for r in ledger(studio)] == [("released", 0.0)]
    assert spend_by(studio.db, studio.workspace().id, "model") == []


@pytest.mark.parametrize(("amount", "shown"), [
    (0.025, "$0.025"), (0.03, "$0.03"), (0.0042, "$0.0042"), (0.75, "$0.75"), (1.0, "$1.00"),
    (1250.5, "$1,250.50"), (0.000042, "$0.000042"), (0.0, "$0.00")])
def test_amounts_show_their_precision(amount: float, shown: str) -> None:
    assert usd(amount) == shown


def test_a_budget_line_keeps_its_precision(studio: Studio) -> None:
    status = set_budget(studio.db, studio.workspace().id, 0.025)
    assert "$0.025 monthly budget" in status.line and "$0.03" not in status.line


def test_a_call_waiting_for_calls_under_way_can_be_canceled(studio: Studio, server: FakeOpenAI,
                                                            client: LLMClient) -> None:
    workspace = studio.workspace()
    set_budget(studio.db, workspace.id, 0.025)
    reserve(studio.db, Intent(workspace.id, ("m",)), 0.03, wait_s=0)  # another process's call

    def canceled() -> None:
        raise JobCanceled("The job was canceled.")

    llm = MeteredLLM(client, studio.db, CallScope(workspace.id, "plan"), check_canceled=canceled)
    with pytest.raises(JobCanceled):
        llm.chat(ASK, model="m")
    assert server.received == [] and [r.state for r in ledger(studio)] == ["reserved"]
