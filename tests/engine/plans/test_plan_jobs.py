"""generate-plan and regenerate-plan-item end to end: fake OpenRouter, real database, runner."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from huey.exceptions import RetryTask

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Influencer, Job, LLMCall, PlanItem
from studio.engine.errors import InvalidInput
from studio.engine.jobs.runner import RETRY_STAGE
from studio.engine.llm.budget import set_budget
from studio.engine.plans import service
from tests.engine.plans.helpers import item, make_mia, plan_answer, run
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-or-plan-test-key"
START = date(2026, 12, 1)


@pytest.fixture
def server(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.plan_model = "openai/gpt-4o-mini"
        studio.settings.llm.fallback_models = "anthropic/claude-3.5-haiku, google/gemini-flash"
        studio.save_settings()
        studio.secrets.set("openrouter", KEY)
        yield fake


@pytest.fixture
def mia(studio: Studio) -> Influencer:
    return make_mia(studio)


def generate(studio: Studio, mia: Influencer, days: int = 3, **options: object) -> Job:
    options.setdefault("utc_offset_minutes", 60)
    job = service.submit_generate_plan(studio, mia.workspace_id, mia, START, days, **options)  # type: ignore[arg-type]
    return run(studio, job)


def plans(studio: Studio) -> list[ContentPlan]:
    with studio.db.session() as session:
        return list(session.query(ContentPlan).order_by(ContentPlan.created_at))


def items_of(studio: Studio, plan_id: str | uuid.UUID) -> list[PlanItem]:
    return list(service.list_items(studio, studio.workspace().id, uuid.UUID(str(plan_id))))


def test_plan_with_validation_retry_end_to_end(studio: Studio, mia: Influencer,
                                               server: FakeOpenAI) -> None:
    good = plan_answer(START, 3)
    good["items"][1] = item(date(2026, 12, 2), prompt="a woman in a cafe, soft light",
                            tags=["#Kaffee", "kaffee", "#berlin"], motion="slow push in",
                            time="07:45")
    server.invalid_json(cost=0.002).success_json(good, cost=0.003)
    job = generate(studio, mia)
    assert job.status == "completed", job.error
    assert job.queue == "general" and job.cost_usd == pytest.approx(0.005)
    assert job.result is not None and job.result["retried"] and job.result["calls"] == 2
    [plan] = plans(studio)
    assert job.result["plan_id"] == str(plan.id)
    assert (plan.start_date, plan.end_date, plan.status) == (START, date(2026, 12, 3), "draft")
    rows = items_of(studio, plan.id)
    assert [r.scheduled_at for r in rows] == [
        datetime(2026, 12, 1, 17, 30, tzinfo=UTC),  # 18:30 at UTC+1
        datetime(2026, 12, 2, 6, 45, tzinfo=UTC),
        datetime(2026, 12, 3, 17, 30, tzinfo=UTC)]
    second = rows[1]
    assert second.image_prompt == "mia_v, a woman in a cafe, soft light"  # trigger put in front
    assert second.hashtags == ["#Kaffee", "#berlin"]
    assert (second.video_prompt, second.subtitle_text, second.status) == (
        "slow push in", f"{second.topic}!", "draft")
    assert rows[0].hashtags == ["#berlin", "#streetstyle"]
    assert all(r.image_prompt.startswith("mia_v") and r.caption and r.hook for r in rows)

    first, retry = (r.body for r in server.received)
    assert first["model"] == "openai/gpt-4o-mini"
    assert first["models"] == ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "google/gemini-flash"]
    schema = first["response_format"]["json_schema"]
    assert first["response_format"]["type"] == "json_schema" and schema["strict"] is True
    assert schema["schema"]["properties"]["items"]["items"]["properties"]["platform"]["enum"] == ["instagram"]
    ask = first["messages"][1]["content"]
    for fact in ("Name: Mia", "trigger word: mia_v", "Language: de", "warm, playful",
                 "fashion, coffee, Berlin", "2026-12-01 to 2026-12-03"):
        assert fact in ask
    assert retry["messages"][2]["role"] == "assistant"
    assert "not valid JSON" in retry["messages"][3]["content"]
    assert server.received[0].headers["Authorization"] == f"Bearer {KEY}"
    with studio.db.session() as session:
        ledger = list(session.query(LLMCall))
    assert {(c.influencer_id, c.job_id, c.purpose) for c in ledger} == {(mia.id, job.id, "plan")}
    assert sorted(c.cost_usd for c in ledger) == [0.002, 0.003]


def test_running_the_same_plan_again_costs_nothing(studio: Studio, mia: Influencer,
                                                   server: FakeOpenAI) -> None:
    server.invalid_json(cost=0.002).success_json(plan_answer(START, 2), cost=0.003)
    assert generate(studio, mia, days=2).status == "completed"
    again = generate(studio, mia, days=2)
    assert again.status == "completed", again.error
    assert len(server.received) == 2  # both answers, the bad and the good one, came from the cache
    assert again.cost_usd == 0.0 and again.result is not None
    assert (again.result["cache_hits"], again.result["cost_usd"]) == (2, 0.0)
    assert [len(items_of(studio, p.id)) for p in plans(studio)] == [2, 2]
    server.success_json(plan_answer(START, 2), cost=0.004)
    fresh = generate(studio, mia, days=2, use_cache=False)  # the bypass pays
    assert fresh.status == "completed" and len(server.received) == 3 and fresh.cost_usd == 0.004


def test_wrong_dates_and_counts_are_sent_back(studio: Studio, mia: Influencer,
                                              server: FakeOpenAI) -> None:
    short = plan_answer(START, 2, platform="tiktok")
    short["items"].append(item(date(2026, 11, 30), platform="tiktok"))
    server.success_json(short).success_json(plan_answer(START, 3, platform="tiktok"))
    job = generate(studio, mia, platforms=["tiktok"])
    assert job.status == "completed", job.error
    feedback = server.received[1].body["messages"][3]["content"]
    assert "2026-11-30 is outside 2026-12-01 to 2026-12-03" in feedback
    first = server.received[0].body
    assert first["response_format"]["json_schema"]["schema"]["properties"]["items"]["items"][
        "properties"]["platform"]["enum"] == ["tiktok"]
    server.success_json(plan_answer(START, 3, platform="instagram"))  # not an allowed platform
    server.success_json(plan_answer(START, 2, platform="tiktok"))  # a day missing
    failed = generate(studio, mia, platforms=["tiktok"], brief="more video")
    assert failed.status == "failed"
    assert "answered twice" in failed.error and "2026-12-03 has 0 posts" in failed.error
    assert "\n" not in failed.error and failed.cost_usd > 0
    assert len(plans(studio)) == 1  # the failed run wrote no plan
    assert "Also: more video" in server.received[2].body["messages"][1]["content"]


def test_two_bad_answers_are_not_replayed_from_the_cache(studio: Studio, mia: Influencer,
                                                         server: FakeOpenAI) -> None:
    server.invalid_json().invalid_json()
    assert generate(studio, mia, days=1).status == "failed"
    server.success_json(plan_answer(START, 1))
    job = generate(studio, mia, days=1)
    assert job.status == "completed", job.error
    assert len(server.received) == 3  # the re-run asked the model again


@pytest.mark.parametrize(("status", "message", "expected"), [
    (401, "No auth credentials found", "secret set openrouter"),
    (402, "Insufficient credits", "out of credits"),
])
def test_refusals_fail_the_job_readably(studio: Studio, mia: Influencer, server: FakeOpenAI,
                                        status: int, message: str, expected: str) -> None:
    server.error(status, message)
    job = generate(studio, mia)
    assert job.status == "failed" and f"HTTP {status}" in job.error and expected in job.error
    assert KEY not in job.error and "\n" not in job.error and not plans(studio)


def test_rate_limits_wait_for_retry_after_or_go_back_to_the_queue(studio: Studio, mia: Influencer,
                                                                  server: FakeOpenAI) -> None:
    server.rate_limited(retry_after="0").success_json(plan_answer(START, 3))
    assert generate(studio, mia).status == "completed"
    server.rate_limited(retry_after="3600")
    job = service.submit_generate_plan(studio, mia.workspace_id, mia, START, 2, utc_offset_minutes=60)
    with pytest.raises(RetryTask):  # too long to wait in the call: back to the queue
        run(studio, job)
    waiting = studio.jobs.get(job.workspace_id, job.id)
    assert waiting.status == "pending" and waiting.stage == RETRY_STAGE
    assert "rate limiting" in waiting.message and "HTTP 429" in waiting.message


def test_budget_warning_then_hard_stop(studio: Studio, mia: Influencer, server: FakeOpenAI) -> None:
    set_budget(studio.db, mia.workspace_id, 0.01)
    server.success_json(plan_answer(START, 3), cost=0.0085)
    warned = generate(studio, mia)
    assert warned.status == "completed" and warned.result is not None
    [warning] = warned.result["warnings"]
    assert "85%" in warning and "$0.01" in warning
    server.success_json(plan_answer(START, 2), cost=0.002)
    assert generate(studio, mia, days=2).status == "completed"  # 85 %: still allowed
    sent = len(server.received)
    stopped = generate(studio, mia, days=4)
    assert stopped.status == "failed" and "used up" in stopped.error
    assert "spend budget" in stopped.error and "\n" not in stopped.error
    assert len(server.received) == sent  # refused before anything was sent
    replay = generate(studio, mia)  # the first plan again: cached, free, allowed
    assert replay.status == "completed" and replay.cost_usd == 0.0


def test_regenerate_one_item(studio: Studio, mia: Influencer, server: FakeOpenAI) -> None:
    server.success_json(plan_answer(START, 3))
    job = generate(studio, mia)
    rows = items_of(studio, job.result["plan_id"])  # type: ignore[index]
    target = rows[1]
    service.set_status(studio, mia.workspace_id, [target.id], "approved")
    new = {k: v for k, v in item(START, 5, prompt="rooftop at night, neon",
                                 motion="orbit left").items()
           if k not in ("date", "time", "platform")}
    server.success_json(new, cost=0.001)
    regen = service.submit_regenerate_item(studio, mia.workspace_id, target,
                                           instruction="make it an evening post")
    done = run(studio, regen)
    assert done.status == "completed", done.error
    assert done.cost_usd == pytest.approx(0.001)
    after = items_of(studio, job.result["plan_id"])  # type: ignore[index]
    changed = after[1]
    assert changed.id == target.id and changed.scheduled_at == target.scheduled_at
    assert (changed.topic, changed.image_prompt, changed.video_prompt, changed.status) == (
        new["topic"], "mia_v, rooftop at night, neon", "orbit left", "draft")
    assert [(a.topic, a.caption) for a in (after[0], after[2])] == [
        (rows[0].topic, rows[0].caption), (rows[2].topic, rows[2].caption)]
    ask = server.received[-1].body["messages"][1]["content"]
    assert json.dumps(target.caption, ensure_ascii=False) in ask
    assert rows[0].topic in ask and rows[2].topic in ask and "make it an evening post" in ask
    assert server.received[-1].body["response_format"]["json_schema"]["name"] == "plan_item"


def test_submit_refuses_bad_requests(studio: Studio, mia: Influencer, server: FakeOpenAI) -> None:
    for options, message in [({"days": 0}, "1 to 31 days"), ({"days": 40}, "1 to 31 days"),
                             ({"per_day": 9}, "1 to 4 posts"),
                             ({"platforms": ["myspace"]}, "not 'myspace'")]:
        days = int(options.pop("days", 3))  # type: ignore[call-overload]
        with pytest.raises(InvalidInput, match=message):
            service.submit_generate_plan(studio, mia.workspace_id, mia, START, days, **options)  # type: ignore[arg-type]
    studio.settings.llm.plan_model = ""
    studio.settings.llm.model = ""
    with pytest.raises(InvalidInput, match="No model chosen"):
        service.submit_generate_plan(studio, mia.workspace_id, mia, START, 3)
