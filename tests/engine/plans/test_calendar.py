"""Calendar reads and moves in the user's local days, across a daylight-saving change."""
from __future__ import annotations

import time as clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, PlanItem
from studio.engine.influencers import Persona, create_influencer
from studio.engine.plans.calendar import items_between, moved_to
from tests.engine.plans.helpers import make_mia


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


def test_moving_keeps_the_local_time_across_the_clock_change(berlin: None) -> None:
    summer = datetime(2026, 10, 23, 18, 30, tzinfo=UTC)  # 20:30 in Berlin (UTC+2)
    winter = moved_to(summer, date(2026, 10, 27))  # after the change: UTC+1
    assert winter == datetime(2026, 10, 27, 19, 30, tzinfo=UTC)
    assert winter.astimezone().time() == time(20, 30)


def test_items_of_local_days_per_influencer_or_all(studio: Studio, berlin: None) -> None:
    workspace_id = studio.workspace().id
    mia = make_mia(studio)
    ben = create_influencer(studio, workspace_id, Persona(name="Ben", trigger_word="ben_v"))
    with studio.db.session() as session:
        for person, moments in ((mia, [datetime(2026, 12, 1, 23, 30, tzinfo=UTC),  # 2 Dec 00:30 local
                                       datetime(2026, 12, 2, 22, 59, tzinfo=UTC)]),  # 2 Dec 23:59
                                (ben, [datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
                                       datetime(2026, 12, 2, 23, 0, tzinfo=UTC)])):  # 3 Dec 00:00
            plan = ContentPlan(workspace_id=workspace_id, influencer_id=person.id, name="p",
                               start_date=date(2026, 12, 1), end_date=date(2026, 12, 3))
            session.add(plan)
            session.flush()
            session.add_all(PlanItem(workspace_id=workspace_id, plan_id=plan.id, scheduled_at=m,
                                     platform="instagram", topic=f"{person.name} {m:%H%M}")
                            for m in moments)
    day = date(2026, 12, 2)
    mine = items_between(studio, workspace_id, day, day, mia.id)
    assert [r.item.topic for r in mine] == ["Mia 2330", "Mia 2259"]
    everyone = items_between(studio, workspace_id, day, day)
    assert [r.item.topic for r in everyone] == ["Mia 2330", "Ben 0900", "Mia 2259"]
    assert {r.influencer for r in everyone} == {"Mia", "Ben"}
    assert [r.item.topic for r in items_between(studio, workspace_id, date(2026, 12, 3),
                                                date(2026, 12, 3))] == ["Ben 2300"]
