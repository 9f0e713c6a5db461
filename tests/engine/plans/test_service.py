"""Plans by hand: list, find by id prefix, edit any field, approve; stale edits conflict."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, PlanItem
from studio.engine.errors import Conflict, InvalidInput, NotFound
from studio.engine.plans import service
from tests.engine.plans.helpers import make_mia

WHEN = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)


@pytest.fixture
def item(studio: Studio) -> PlanItem:
    mia = make_mia(studio)
    with studio.db.session() as session:
        plan = ContentPlan(workspace_id=mia.workspace_id, influencer_id=mia.id, name="Mia Dec",
                           start_date=date(2026, 12, 1), end_date=date(2026, 12, 2))
        session.add(plan)
        session.flush()
        rows = [PlanItem(workspace_id=mia.workspace_id, plan_id=plan.id, scheduled_at=WHEN.replace(day=d),
                         platform="instagram", topic=f"topic {d}", caption="hi",
                         hashtags=["#a"], image_prompt="mia_v, cafe") for d in (2, 1)]
        session.add_all(rows)
        session.flush()
        return rows[1]


def test_list_plans_and_items_in_time_order(studio: Studio, item: PlanItem) -> None:
    workspace = studio.workspace().id
    [summary] = service.list_plans(studio, workspace)
    assert (summary.influencer, summary.items, summary.approved) == ("Mia", 2, 0)
    rows = service.list_items(studio, workspace, summary.plan.id)
    assert [r.topic for r in rows] == ["topic 1", "topic 2"]
    service.set_status(studio, workspace, [item.id], "approved")
    assert service.list_plans(studio, workspace, summary.plan.influencer_id)[0].approved == 1
    assert service.list_plans(studio, workspace, item.id) == []  # no such influencer


def test_edit_fields_and_keep_approval(studio: Studio, item: PlanItem) -> None:
    workspace = studio.workspace().id
    service.set_status(studio, workspace, [item.id], "approved")
    edited = service.edit_item(studio, workspace, item.id, {
        "caption": "  Neuer Text ", "hashtags": "berlin, #Kaffee #berlin", "platform": "TikTok",
        "scheduled_at": "2026-12-05T09:15:00+01:00", "video_prompt": "slow pan"})
    assert (edited.caption, edited.hashtags, edited.platform, edited.video_prompt, edited.status) == (
        "Neuer Text", ["#berlin", "#Kaffee"], "tiktok", "slow pan", "approved")
    assert edited.scheduled_at == datetime(2026, 12, 5, 8, 15, tzinfo=UTC)
    with pytest.raises(Conflict, match="changed elsewhere"):
        service.edit_item(studio, workspace, item.id, {"hook": "x"}, expected_version=item.version)
    for changes, message in [({"status": "posted"}, "cannot be edited"),
                             ({"platform": "myspace"}, "Platforms are"),
                             ({"scheduled_at": "tomorrow"}, "not a date and time"), ({}, "Nothing")]:
        with pytest.raises(InvalidInput, match=message):
            service.edit_item(studio, workspace, item.id, changes)
    with pytest.raises(InvalidInput, match="status is one of"):
        service.set_status(studio, workspace, [item.id], "posted")


def test_find_by_prefix(studio: Studio, item: PlanItem) -> None:
    workspace = studio.workspace().id
    assert service.find_item(studio, workspace, str(item.id)[:8]).id == item.id
    assert service.find_item(studio, workspace, str(item.id).upper()).id == item.id
    with pytest.raises(InvalidInput, match="too short"):
        service.find_item(studio, workspace, "ab")
    with pytest.raises(NotFound):
        service.find_item(studio, workspace, "ffffffff-0000")
    assert service.find_plan(studio, workspace, str(item.plan_id)[:6]).name == "Mia Dec"
