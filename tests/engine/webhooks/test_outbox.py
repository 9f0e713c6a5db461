"""Events recorded where they happen: a job's outcome through the real runner, a cancel, a plan
item produced; one delivery per webhook that asked for the event, none for anyone else."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import ContentPlan, Influencer, Job, PlanItem, WebhookDelivery
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_CANCELED, JOB_COMPLETED, JOB_FAILED, PLAN_ITEM_READY, Event
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.recovery import recover_orphans
from studio.engine.webhooks import outbox
from studio.engine.webhooks.loop import DeliveryLoop
from studio.engine.webhooks.store import add_webhook
from tests.conftest import WorkerProcess, run_next_task, wait_until
from tests.engine.webhooks.helpers import DONE_JOB, FAILING_JOB
from tests.fakes.webhook_receiver import WebhookReceiver


def _bodies(studio: Studio) -> list[dict[str, object]]:
    with studio.db.session() as session:
        return [json.loads(row.body) for row in session.scalars(select(WebhookDelivery)
                                                               .order_by(WebhookDelivery.created_at))]


def test_a_finished_job_is_recorded_for_the_webhooks_that_want_it(studio: Studio,
                                                                 workspace_id: uuid.UUID) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url="https://a.example/x", events=[JOB_COMPLETED])
    add_webhook(studio.db, studio.secrets, workspace_id, url="https://b.example/x", events=[JOB_FAILED])
    done = studio.jobs.submit(workspace_id, DONE_JOB, Empty(), title="Quick one")
    run_next_task(studio, "general")
    failed = studio.jobs.submit(workspace_id, FAILING_JOB, Empty())
    run_next_task(studio, "general")

    completed_event, failed_event = _bodies(studio)
    assert completed_event["type"] == JOB_COMPLETED and failed_event["type"] == JOB_FAILED
    assert completed_event["workspace_id"] == str(workspace_id)
    data = completed_event["data"]
    assert isinstance(data, dict)
    assert (data["id"], data["status"], data["title"]) == (str(done.id), "completed", "Quick one")
    failed_data = failed_event["data"]
    assert isinstance(failed_data, dict) and failed_data["id"] == str(failed.id)
    assert "x.safetensors" in str(failed_data["error"])
    assert str(studio.paths.data_dir) not in json.dumps(failed_event)  # no path of this machine


def test_a_canceled_waiting_job_is_an_event_too(studio: Studio, workspace_id: uuid.UUID) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url="https://a.example/x",
                events=[JOB_CANCELED, JOB_COMPLETED])
    job = studio.jobs.submit(workspace_id, DONE_JOB, Empty())
    studio.jobs.cancel(workspace_id, job.id)
    [event] = _bodies(studio)
    assert event["type"] == JOB_CANCELED and event["id"] == f"job-{job.id.hex}-2"


def test_nothing_is_recorded_without_a_webhook_or_for_another_workspace(studio: Studio,
                                                                      workspace_id: uuid.UUID) -> None:
    studio.jobs.submit(workspace_id, DONE_JOB, Empty())
    run_next_task(studio, "general")
    other = studio.workspace("other", create=True)
    add_webhook(studio.db, studio.secrets, other.id, url="https://a.example/x", events=[JOB_COMPLETED])
    studio.jobs.submit(workspace_id, DONE_JOB, Empty())
    run_next_task(studio, "general")
    assert _bodies(studio) == []
    assert outbox.any_webhooks(studio.db)


def test_the_same_event_twice_is_one_delivery(studio: Studio, workspace_id: uuid.UUID) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url="https://a.example/x", events=[JOB_COMPLETED])
    job = studio.jobs.submit(workspace_id, DONE_JOB, Empty())
    run_next_task(studio, "general")
    outbox.record_job_finished(studio.db, job.id)
    assert len(_bodies(studio)) == 1


def _plan_item(studio: Studio, workspace_id: uuid.UUID) -> uuid.UUID:
    with studio.db.session() as session:
        influencer = Influencer(workspace_id=workspace_id, name="Mia")
        session.add(influencer)
        session.flush()
        plan = ContentPlan(workspace_id=workspace_id, influencer_id=influencer.id, name="Week",
                           start_date=utcnow().date(), end_date=utcnow().date())
        session.add(plan)
        session.flush()
        item = PlanItem(workspace_id=workspace_id, plan_id=plan.id, scheduled_at=utcnow() + timedelta(days=1),
                        platform="instagram", topic="Beach day", caption="Sun!", status="ready",
                        pipeline={"publish": {"folder": str(studio.paths.data_dir / "publish" / "x"),
                                              "done": True}})
        session.add(item)
        session.flush()
        return item.id


def test_a_produced_plan_item_is_recorded_and_sent_by_the_loop(studio: Studio, workspace_id: uuid.UUID) -> None:
    item_id = _plan_item(studio, workspace_id)
    with WebhookReceiver() as receiver:
        add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[PLAN_ITEM_READY])
        loop = DeliveryLoop(studio.db, studio.secrets, interval_s=30)
        loop.start()
        try:
            outbox.record_plan_item_ready(studio.db, workspace_id, item_id, studio.paths.data_dir)
            wait_until(lambda: receiver.received, what="the delivery")  # woken, not after 30 s
        finally:
            loop.close()
    event = receiver.received[0].json()
    assert event["type"] == PLAN_ITEM_READY
    assert event["data"]["id"] == str(item_id) and event["data"]["platform"] == "instagram"
    assert event["data"]["steps"]["publish"] == {"done": True}
    assert str(studio.paths.data_dir) not in receiver.received[0].raw.decode()


def test_the_worker_process_sends_what_another_process_recorded(studio: Studio, workspace_id: uuid.UUID,
                                                                receiver: WebhookReceiver,
                                                                worker: WorkerProcess) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED],
                secret="k")
    outbox.record(studio.db, Event(f"job-{uuid.uuid4().hex}-3", JOB_COMPLETED, utcnow(), workspace_id, {}))
    wait_until(lambda: receiver.received, timeout=30, what="the worker's delivery")
    assert receiver.received[0].headers["x-studio-event"] == JOB_COMPLETED


def test_an_orphan_given_up_by_recovery_is_a_failed_job_event(studio: Studio, workspace_id: uuid.UUID) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url="https://a.example/x", events=[JOB_FAILED])
    job = studio.jobs.submit(workspace_id, DONE_JOB, Empty())
    with studio.db.session() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status, row.worker_id, row.attempts = "processing", "gone-host:1:dead", row.max_attempts
    recover_orphans(studio.db, studio.queues, timeout_s=1.0)
    [event] = _bodies(studio)
    assert event["type"] == JOB_FAILED and "stopped unexpectedly" in str(event["data"])
