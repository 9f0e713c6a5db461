"""The daily run: today's approved posts start producing at the set time, staggered, once."""
from __future__ import annotations

from datetime import datetime, timedelta

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem
from studio.engine.jobs.queueset import DAILY_QUEUE
from studio.engine.pipelines.schedule import run_daily
from tests.engine.pipelines.helpers import make_item

NINE = datetime.now().astimezone().replace(hour=9, minute=0, second=0, microsecond=0)


def test_the_daily_run_starts_todays_approved_posts_once_staggered(studio: Studio) -> None:
    first = make_item(studio, when=NINE + timedelta(hours=3))
    second = make_item(studio, when=NINE + timedelta(hours=1), platform="tiktok")
    make_item(studio, when=NINE + timedelta(days=1))  # tomorrow
    make_item(studio, when=NINE + timedelta(hours=2), status="draft")
    assert run_daily(studio, NINE) == []  # not set: off

    studio.settings.pipeline.daily_at = "09:30"
    studio.settings.pipeline.stagger_minutes = 15
    assert run_daily(studio, NINE + timedelta(minutes=29)) == []  # not yet
    now = NINE + timedelta(minutes=31)
    started = run_daily(studio, now)
    assert [j.payload["item_id"] for j in started] == [str(second.id), str(first.id)]  # in time order
    assert started[0].payload["not_before"] is None
    assert datetime.fromisoformat(started[1].payload["not_before"]) == now + timedelta(minutes=15)
    with studio.db.session() as session:
        assert session.get(PlanItem, first.id).status == "producing"
    assert run_daily(studio, now + timedelta(minutes=1)) == []  # the next minute: nothing twice

    late = make_item(studio, when=NINE + timedelta(hours=8))  # approved after the daily time
    assert [j.payload["item_id"] for j in run_daily(studio, now + timedelta(hours=2))] == [str(late.id)]


def test_the_worker_checks_every_minute_on_the_pipeline_queue(studio: Studio) -> None:
    calls: list[str] = []
    studio.queues.set_daily(lambda: calls.append("tick"))
    huey = studio.queues.hueys[DAILY_QUEUE]
    due = list(huey.read_periodic(datetime.now()))
    assert [t.name for t in due] == ["studio.daily_pipelines"]
    huey.execute(due[0])
    assert calls == ["tick"]
    [consumer] = studio.queues.consumers(queues=[DAILY_QUEUE])
    assert consumer.periodic
    assert not any(c.periodic for c in studio.queues.consumers(queues=["generation", "general"]))
