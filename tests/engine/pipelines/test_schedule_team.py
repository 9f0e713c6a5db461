"""The minutely run in team mode: two workers on one PostgreSQL database, the same moment at once;
each slot plans once, each post is made once and handed to publishing once."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import PlanItem, Publication
from studio.engine.db.repositories import Repository
from studio.engine.pipelines.daily_plans import ScheduleChange, set_schedule
from studio.engine.pipelines.schedule import MinuteReport, run_minute
from tests.engine.pipelines.helpers import make_item
from tests.engine.plans.helpers import make_mia
from tests.engine.publish.produced import produced_item

NINE = datetime(2026, 12, 10, 9, 0).astimezone()


@pytest.fixture
def workers(studio: Studio, postgres_url: str) -> Iterator[list[Studio]]:
    studio.settings.set("database.url", postgres_url)
    studio.save_settings()
    team = [Studio.open(studio.paths.data_dir) for _ in range(2)]
    yield team
    for worker in team:
        worker.close()


def produced_at(studio: Studio, when: datetime) -> PlanItem:
    item = produced_item(studio)
    with studio.db.session() as session:
        repo = Repository(session, item.workspace_id)
        return repo.update(repo.get(PlanItem, item.id), scheduled_at=when)


def at_once(workers: list[Studio], now: datetime) -> list[MinuteReport]:
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        return list(pool.map(lambda worker: run_minute(worker, now), workers))


def test_two_workers_on_postgresql_act_once(workers: list[Studio]) -> None:
    first = workers[0]
    mia = make_mia(first)
    set_schedule(first, mia.workspace_id, mia.id, ScheduleChange(at="09:00"))
    coming = [make_item(first, when=NINE + timedelta(hours=h)) for h in (1, 2, 3)]
    due = [produced_at(first, NINE - timedelta(minutes=m)) for m in (0, 5)]
    reports = at_once(workers, NINE)
    reports += at_once(workers, NINE + timedelta(minutes=1))
    planned = [job for r in reports for job in r.planned]
    produced = sorted(job.payload["item_id"] for r in reports for job in r.produced)
    published = sorted(str(i) for r in reports for i in r.published)
    assert len(planned) == 1  # no plan model set: recorded as a failed job, still once
    assert produced == sorted(str(i.id) for i in coming)
    assert published == sorted(str(i.id) for i in due)
    with first.db.session() as session:
        rows = session.query(Publication).all()
    assert sorted(str(r.plan_item_id) for r in rows) == published and {r.status for r in rows} == {"manual"}
