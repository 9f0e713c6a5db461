"""Daily schedules: tomorrow planned at the set hour, once per slot with two workers, within budget.

The plan job is the ordinary generate-plan job, run here through the real runner against the
fake OpenRouter; two Studio objects on one data folder stand for two workers.
"""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import Influencer, PlanItem, ProductionSchedule
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.budget import set_budget
from studio.engine.pipelines.daily_plans import (
    ScheduleChange,
    list_schedules,
    remove_schedule,
    run_daily_plans,
    set_schedule,
)
from studio.engine.pipelines.schedule import run_minute
from tests.engine.plans.helpers import make_mia, plan_answer, run
from tests.fakes.openai_server import FakeOpenAI

NINE = datetime(2026, 12, 10, 9, 0).astimezone()  # local
TOMORROW = date(2026, 12, 11)


@pytest.fixture
def llm(studio: Studio) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        studio.settings.llm.base_url = fake.base_url
        studio.settings.llm.plan_model = "openai/gpt-4o-mini"
        studio.save_settings()
        studio.secrets.set("openrouter", "sk-or-daily-plan-key")
        yield fake


@pytest.fixture
def mia(studio: Studio) -> Influencer:
    return make_mia(studio)


def schedule(studio: Studio, mia: Influencer, **change: object) -> ProductionSchedule:
    return set_schedule(studio, mia.workspace_id, mia.id, ScheduleChange(**change))  # type: ignore[arg-type]


def test_set_list_and_remove_check_what_they_are_given(studio: Studio, mia: Influencer) -> None:
    made = schedule(studio, mia, at="09:05", posts_per_day=2)
    assert (made.at, made.posts_per_day, made.platforms, made.auto_approve, made.enabled) == (
        "09:05", 2, ["instagram"], False, True)
    changed = schedule(studio, mia, platforms=["tiktok", "instagram"], auto_approve=True, enabled=False)
    assert changed.id == made.id and changed.at == "09:05" and changed.platforms == ["tiktok", "instagram"]
    with pytest.raises(InvalidInput, match="HH:MM"):
        schedule(studio, mia, at="25:00")
    with pytest.raises(InvalidInput, match="1 to 4 posts"):
        schedule(studio, mia, posts_per_day=9)
    with pytest.raises(InvalidInput, match="not 'myspace'"):
        schedule(studio, mia, platforms=["myspace"])
    [view] = list_schedules(studio, mia.workspace_id)
    assert (view.influencer, view.auto_approve, view.enabled, view.last_job) == ("Mia", True, False, None)
    other = studio.workspace("Other team", create=True)
    assert list_schedules(studio, other.id) == []
    with pytest.raises(NotFound):
        set_schedule(studio, other.id, mia.id, ScheduleChange(at="10:00"))  # another workspace's
    remove_schedule(studio, mia.workspace_id, mia.id)
    assert list_schedules(studio, mia.workspace_id) == []
    with pytest.raises(NotFound, match="no daily schedule"):
        remove_schedule(studio, mia.workspace_id, mia.id)


def test_a_slot_plans_tomorrow_once_with_two_workers_and_again_the_next_day(
        studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    made = schedule(studio, mia, at="09:00", posts_per_day=2, platforms=["instagram", "tiktok"])
    other = Studio.open(studio.paths.data_dir)
    try:
        assert run_daily_plans(studio, NINE - timedelta(minutes=1)) == []  # not yet
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [j for found in pool.map(lambda w: run_daily_plans(w, NINE), [studio, other])
                    for j in found]
        assert run_daily_plans(other, NINE + timedelta(hours=3)) == []  # the slot has run
        restarted = Studio.open(studio.paths.data_dir)  # the state is the row: a restart keeps it
        assert run_daily_plans(restarted, NINE + timedelta(hours=4)) == []
        restarted.close()
        [next_day] = run_daily_plans(other, NINE + timedelta(days=1))
    finally:
        other.close()
    [job] = jobs
    assert job.type == "generate-plan" and job.payload["schedule_id"] == str(made.id)
    assert (job.payload["start"], job.payload["days"], job.payload["per_day"]) == (TOMORROW.isoformat(), 1, 2)
    assert job.payload["platforms"] == ["instagram", "tiktok"] and job.payload["auto_approve"] is False
    assert next_day.payload["start"] == (TOMORROW + timedelta(days=1)).isoformat()
    [view] = list_schedules(studio, mia.workspace_id)
    assert view.last_slot == NINE.date() + timedelta(days=1) and view.last_job is not None
    assert view.last_job.id == next_day.id


def test_auto_approved_posts_are_produced_ahead_and_others_wait_for_approval(
        studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    schedule(studio, mia, at="09:00", auto_approve=True)
    llm.success_json(plan_answer(TOMORROW, 1, time="10:00"))
    [job] = run_minute(studio, NINE).planned
    done = run(studio, job)
    assert done.status == JobStatus.COMPLETED, done.error
    with studio.db.session() as session:
        [item] = session.query(PlanItem).all()
    assert item.status == "approved"
    morning = datetime(2026, 12, 11, 5, 0).astimezone()  # five hours before the post
    assert [j.payload["item_id"] for j in run_minute(studio, morning).produced] == [str(item.id)]

    schedule(studio, mia, auto_approve=False)
    llm.success_json(plan_answer(TOMORROW + timedelta(days=1), 1, time="10:00"))
    [waiting] = run_minute(studio, NINE + timedelta(days=1)).planned
    assert run(studio, waiting).status == JobStatus.COMPLETED
    with studio.db.session() as session:
        statuses = sorted(i.status for i in session.query(PlanItem))
    assert statuses == ["draft", "producing"]  # tomorrow's waits for the user
    assert run_minute(studio, morning + timedelta(days=1)).produced == []


def test_over_budget_the_slot_is_recorded_with_its_reason(
        studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    schedule(studio, mia, at="09:00")
    set_budget(studio.db, mia.workspace_id, 0.0)
    [job] = run_daily_plans(studio, NINE)
    refused = run(studio, job)
    assert refused.status == JobStatus.FAILED and "used up" in refused.error
    assert "\n" not in refused.error and llm.received == []  # nothing was paid for
    assert run_daily_plans(studio, NINE + timedelta(minutes=1)) == []  # recorded as run
    [view] = list_schedules(studio, mia.workspace_id)
    assert view.last_slot == NINE.date() and view.last_job is not None
    assert view.last_job.error == refused.error


def test_a_plan_that_cannot_be_asked_for_is_kept_as_a_failed_job(studio: Studio, mia: Influencer) -> None:
    schedule(studio, mia, at="09:00")  # no plan model chosen
    [job] = run_daily_plans(studio, NINE)
    assert job.status == JobStatus.FAILED and "No model chosen" in job.error
    assert run_daily_plans(studio, NINE + timedelta(minutes=1)) == []
    [view] = list_schedules(studio, mia.workspace_id)
    assert view.last_job is not None and view.last_job.id == job.id


def test_a_schedule_turned_off_does_not_run(studio: Studio, mia: Influencer, llm: FakeOpenAI) -> None:
    schedule(studio, mia, at="09:00", enabled=False)
    assert run_daily_plans(studio, NINE) == []
    schedule(studio, mia, enabled=True)
    assert len(run_daily_plans(studio, NINE + timedelta(hours=1))) == 1  # caught up later that day
