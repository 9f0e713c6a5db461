"""The cost estimate of a plan: the job's own request, the fake server's price list (as
OpenRouter sends it), "price unknown" when there is no price, free when the cache has it."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer
from studio.engine.plans import service
from studio.engine.plans.estimate import COMPLETION_PER_POST, estimate_plan, fetch_prices, prompt_tokens
from studio.engine.plans.jobs import plan_body
from studio.engine.plans.prompts import PlanRequest
from tests.engine.plans.helpers import make_mia, plan_answer, run
from tests.fakes.openai_server import FakeOpenAI

START = date(2026, 12, 1)
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.plan_model = MODEL
        studio.settings.llm.fallback_models = "anthropic/claude-3.5-haiku"
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-estimate")
        yield fake


@pytest.fixture
def mia(studio: Studio) -> Influencer:
    return make_mia(studio)


def test_priced_estimate_is_tokens_times_the_listed_price(studio: Studio, mia: Influencer,
                                                          server: FakeOpenAI) -> None:
    server.priced(MODEL, prompt="0.00000015", completion="0.0000006", request="0.0001")
    server.priced("openrouter/auto", prompt="-1", completion="-1")
    estimate = estimate_plan(studio, mia.workspace_id, mia.id, START, 7, per_day=2,
                             platforms=("instagram", "tiktok"), brief="winter")
    assert estimate.posts == 14 and not estimate.cached
    assert estimate.completion_tokens == 20 + COMPLETION_PER_POST * 14
    assert estimate.price is not None
    expected = (estimate.prompt_tokens * 0.00000015 + estimate.completion_tokens * 0.0000006
                + 0.0001)
    assert estimate.cost_usd == pytest.approx(expected)
    assert estimate.max_cost_usd is not None and estimate.max_cost_usd > expected
    assert f"${expected:.4f}" in estimate.line and "$0.15 / $0.60 per million" in estimate.line
    # More posts, more tokens: the estimate follows the request.
    longer = estimate_plan(studio, mia.workspace_id, mia.id, START, 14, per_day=2,
                           platforms=("instagram", "tiktok"), brief="winter")
    assert longer.completion_tokens > estimate.completion_tokens
    gets = server.listings
    assert gets[0].path == "/api/v1/models" and "Authorization" not in gets[0].headers
    assert len(gets) == 1  # the price list is kept for a while, not fetched per estimate
    assert "openrouter/auto" not in fetch_prices(server.base_url)  # variable price: unknown


def test_unknown_price_is_said_not_invented(studio: Studio, mia: Influencer,
                                            server: FakeOpenAI) -> None:
    server.priced("anthropic/claude-3.5-haiku", prompt="0.0000008", completion="0.000004")
    estimate = estimate_plan(studio, mia.workspace_id, mia.id, START, 3)
    assert estimate.price is None and estimate.cost_usd is None
    assert "price unknown" in estimate.line and f"{MODEL} is not in the server's price list" in estimate.line
    with socket.socket() as probe:  # a port nothing listens on: a local server that is down
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    studio.settings.llm.base_url = closed
    offline = estimate_plan(studio, mia.workspace_id, mia.id, START, 3)
    assert offline.cost_usd is None and "price unknown: the price list at" in offline.line


def test_the_estimate_measures_the_request_the_job_sends_and_a_repeat_is_free(
        studio: Studio, mia: Influencer, server: FakeOpenAI) -> None:
    server.priced(MODEL, prompt="0.00000015", completion="0.0000006")
    server.success_json(plan_answer(START, 3))
    job = service.submit_generate_plan(studio, mia.workspace_id, mia, START, 3, brief="cozy",
                                       platforms=["instagram"], utc_offset_minutes=60)
    assert run(studio, job).status == "completed"
    [sent] = [r for r in server.received if r.method == "POST"]
    request = PlanRequest(START, 3, ("instagram",), 1, "cozy")
    assert sent.body == plan_body(mia, request, MODEL, ["anthropic/claude-3.5-haiku"])
    again = estimate_plan(studio, mia.workspace_id, mia.id, START, 3, brief="cozy")
    assert again.cached and again.cost_usd == 0.0 and again.line.startswith("Free")
    assert again.prompt_tokens == prompt_tokens(sent.body)
    other = estimate_plan(studio, mia.workspace_id, mia.id, START, 3, brief="cozy, at night")
    assert not other.cached and other.cost_usd is not None and other.cost_usd > 0
