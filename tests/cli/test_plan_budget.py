"""The monthly budget against several real ``plan generate`` processes at once, with and without
a worker, on a stand-in OpenRouter that answers slowly; a process killed mid-request leaves its
reservation on record; a broken cost from the server is booked at the estimate."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import LLMCall
from studio.engine.db.types import utcnow
from studio.engine.influencers import Persona, create_influencer
from studio.engine.llm.budget import budget_status, set_budget
from studio.engine.llm.prices import clear_price_cache
from tests.cli.conftest import cli_here
from tests.conftest import ROOT, WorkerProcess, studio_command, wait_until
from tests.engine.plans.helpers import plan_answer
from tests.fakes.openai_server import FakeOpenAI, Reply

START = date(2026, 12, 1)
MODEL = "openai/gpt-4o-mini"
BUDGET = 0.025
PER_CALL = 0.01
COMPLETION_PRICE = 0.000011  # a one-day plan asks for at most 950 tokens: $0.01045 reserved
RESERVATION = 950 * COMPLETION_PRICE
ANSWER = json.dumps(plan_answer(START, 1))


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    clear_price_cache()
    with FakeOpenAI() as fake:
        fake.priced(MODEL, prompt="0", completion=f"{COMPLETION_PRICE:.6f}")
        fake.answer_always(ANSWER, delay_s=2.0, cost=PER_CALL, prompt_tokens=1500,
                           completion_tokens=400)
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.model = MODEL
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-budget-test")
        workspace = studio.workspace()
        create_influencer(studio, workspace.id, Persona(name="Mia", trigger_word="mia_v"))
        set_budget(studio.db, workspace.id, BUDGET)
        yield fake


def generate(studio: Studio, variant: int) -> list[str]:
    # A different brief each: identical requests would be answered from the cache for free.
    return studio_command(studio.paths.data_dir, "plan", "generate", "--influencer", "Mia",
                          "--from", START.isoformat(), "--days", "1", "--brief", f"variant {variant}")


def run_at_once(studio: Studio, count: int) -> list[tuple[int, str, str]]:
    procs = [subprocess.Popen(generate(studio, i), cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(count)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results


def paid_calls(studio: Studio) -> list[LLMCall]:
    with studio.db.session() as session:
        return list(session.scalars(select(LLMCall).where(LLMCall.cached.is_(False),
                                                          LLMCall.state != "released")))


def check_budget_held(studio: Studio, server: FakeOpenAI, results: list[tuple[int, str, str]]) -> None:
    for code, out, err in results:
        assert "Traceback" not in out + err, err
        assert code == 0 or (code == 1 and "budget" in err), err
    calls = paid_calls(studio)
    spent = sum(c.cost_usd for c in calls)
    print(f"{len(results)} processes: {len(calls)} paid calls, spent ${spent:.4f} of ${BUDGET} "
          f"({spent / BUDGET:.0%}); the limit is budget + one reservation, "
          f"${BUDGET + RESERVATION:.5f} ({(BUDGET + RESERVATION) / BUDGET:.0%})")
    assert len(server.received) == len(calls)  # every request the server got is on record
    assert all(c.state == "settled" for c in calls)
    assert spent <= BUDGET + RESERVATION
    assert sum(1 for code, _, _ in results if code == 0) == len(calls) >= 2
    assert budget_status(studio.db, studio.workspace().id).level == "exceeded"


def test_eight_processes_at_once_stop_one_reservation_past_the_budget(
        studio: Studio, server: FakeOpenAI) -> None:
    check_budget_held(studio, server, run_at_once(studio, 8))


def test_six_processes_with_a_worker_stop_one_reservation_past_the_budget(
        studio: Studio, server: FakeOpenAI) -> None:
    worker = WorkerProcess(studio.paths.data_dir)
    try:
        check_budget_held(studio, server, run_at_once(studio, 6))
    finally:
        worker.kill()


def test_a_process_killed_mid_request_leaves_its_call_on_record(
        studio: Studio, server: FakeOpenAI) -> None:
    server.silent()
    proc = subprocess.Popen(generate(studio, 0), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.received, timeout=60, what="the request")
    finally:
        proc.kill()  # kill -9 while the server works on the answer
        proc.wait(timeout=10)
    [call] = paid_calls(studio)
    assert (call.state, call.cost_usd) == ("reserved", pytest.approx(RESERVATION))
    shown = cli_here(studio.paths.data_dir, "spend", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["spent_usd"] == pytest.approx(RESERVATION)
    with studio.db.session() as session:  # as if the call's longest possible time had passed
        session.get(LLMCall, call.id).created_at = utcnow() - timedelta(hours=1)  # type: ignore[union-attr]
    assert budget_status(studio.db, studio.workspace().id).reserved_usd == 0
    [call] = paid_calls(studio)
    assert (call.state, call.cost_usd) == ("unsettled", pytest.approx(RESERVATION))

    server.default = Reply(content=ANSWER, cost=PER_CALL)
    again = cli_here(studio.paths.data_dir, "plan", "generate", "--influencer", "Mia", "--from",
                     START.isoformat(), "--days", "1", "--brief", "variant 0")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert len(server.received) == 2
    spent = budget_status(studio.db, studio.workspace().id).spent_usd
    assert spent == pytest.approx(RESERVATION + PER_CALL)


def test_a_nan_cost_is_booked_at_the_estimate_and_said(studio: Studio, server: FakeOpenAI) -> None:
    server.default = Reply(content=ANSWER, cost=float("nan"), prompt_tokens=1500,
                           completion_tokens=400)
    made = cli_here(studio.paths.data_dir, "plan", "generate", "--influencer", "Mia", "--from",
                    START.isoformat(), "--days", "1")
    assert made.returncode == 0 and "Traceback" not in made.stdout + made.stderr, made.stderr
    estimate = 400 * COMPLETION_PRICE  # the prompt is free at this price
    assert "reported a cost of nan" in made.stderr and "booked at its estimate, $0.0044" in made.stderr
    [call] = paid_calls(studio)
    assert (call.state, call.cost_usd) == ("settled", pytest.approx(estimate))
