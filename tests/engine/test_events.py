"""Events: their JSON, the SSE resume point, and the feed /events reads (rows changed since)."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Influencer, PlanItem
from studio.engine.db.types import utcnow
from studio.engine.events import (
    JOB_COMPLETED,
    JOB_PROGRESS,
    PLAN_ITEM_READY,
    Event,
    EventFeed,
    resume_point,
    sse_id,
)
from studio.engine.jobs.payloads import Empty
from tests.conftest import run_next_task
from tests.engine.webhooks.helpers import DONE_JOB, FAILING_JOB


def test_an_event_is_compact_json_with_its_five_fields() -> None:
    workspace = uuid.uuid4()
    at = datetime(2026, 12, 6, 5, 0, 1, 250000, tzinfo=UTC)
    event = Event("job-ab-2", JOB_COMPLETED, at, workspace, {"caption": "café"})
    assert event.body() == ('{"id":"job-ab-2","type":"job.completed","at":"2026-12-06T05:00:01.250000Z",'
                            f'"workspace_id":"{workspace}","data":{{"caption":"café"}}}}')
    assert resume_point(sse_id(event)) == at
    assert resume_point("2026-12-06T05:00:01Z") == at.replace(microsecond=0)
    assert resume_point("2026-12-06T05:00:01") == at.replace(microsecond=0)
    assert resume_point("yesterday") is None and resume_point("") is None and resume_point(None) is None


def test_the_feed_tells_each_change_once_and_a_failure_without_paths(studio: Studio) -> None:
    workspace = studio.workspace().id
    feed = EventFeed(studio.db, workspace, utcnow() - timedelta(seconds=1), studio.paths.data_dir)
    job = studio.jobs.submit(workspace, FAILING_JOB, Empty())
    [waiting] = feed.poll()
    assert (waiting.type, waiting.data["status"]) == (JOB_PROGRESS, "pending")
    assert feed.poll() == []  # nothing new: told once
    run_next_task(studio, "general")
    [failed] = feed.poll()
    assert failed.type == "job.failed" and failed.data["id"] == str(job.id)
    assert "x.safetensors" in failed.data["error"]
    assert str(studio.paths.data_dir) not in json.dumps(failed.as_dict())


def test_the_feed_starts_where_it_is_told_and_sees_plan_items_become_ready(studio: Studio) -> None:
    workspace = studio.workspace().id
    studio.jobs.submit(workspace, DONE_JOB, Empty())
    run_next_task(studio, "general")
    assert EventFeed(studio.db, workspace, utcnow()).poll() == []  # before the start: not told
    feed = EventFeed(studio.db, workspace, utcnow() - timedelta(seconds=1))
    with studio.db.session() as session:
        influencer = Influencer(workspace_id=workspace, name="Mia")
        session.add(influencer)
        session.flush()
        plan = ContentPlan(workspace_id=workspace, influencer_id=influencer.id, name="Week",
                           start_date=utcnow().date(), end_date=utcnow().date())
        session.add(plan)
        session.flush()
        item = PlanItem(workspace_id=workspace, plan_id=plan.id, scheduled_at=utcnow(), platform="tiktok",
                        status="approved")
        session.add(item)
    kinds = [e.type for e in feed.poll()]
    assert JOB_COMPLETED in kinds and PLAN_ITEM_READY not in kinds
    with studio.db.session() as session:
        row = session.get(PlanItem, item.id)
        assert row is not None
        row.status = "ready"
    [ready] = feed.poll()
    assert ready.type == PLAN_ITEM_READY and ready.data["platform"] == "tiktok"
    other = studio.workspace("other", create=True)
    assert EventFeed(studio.db, other.id, utcnow() - timedelta(minutes=5)).poll() == []
