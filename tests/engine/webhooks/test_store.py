"""Webhooks added, listed and removed; the secret in the secret store, never in the database."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from studio.engine.core import Studio
from studio.engine.db.models import Webhook, WebhookDelivery, Workspace
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.events import JOB_COMPLETED, JOB_FAILED, PLAN_ITEM_READY, Event
from studio.engine.webhooks import outbox
from studio.engine.webhooks.store import add_webhook, list_deliveries, list_webhooks, remove_webhook, send_again


def test_a_webhook_keeps_its_secret_in_the_secret_store(studio: Studio, workspace_id: uuid.UUID) -> None:
    info = add_webhook(studio.db, studio.secrets, workspace_id, url=" https://n8n.example/webhook/abc ",
                       events=["job.completed", "plan.item.ready", "job.completed"], secret="whsec-123")
    assert info.url == "https://n8n.example/webhook/abc"
    assert info.events == (JOB_COMPLETED, PLAN_ITEM_READY) and info.signed and info.active
    with studio.db.session() as session:
        row = session.get(Webhook, info.id)
        assert row is not None and row.secret_name == f"webhook.{info.id.hex}"
        dump = " ".join(str(v) for v in session.execute(text("SELECT * FROM webhooks")).one())
    assert "whsec-123" not in dump
    assert studio.secrets.get(f"webhook.{info.id.hex}") == "whsec-123"
    assert list_webhooks(studio.db, workspace_id) == [info]


@pytest.mark.parametrize(("url", "events", "words"), [
    ("ftp://example.com/x", ["job.completed"], "is not an http:// or https:// URL"),
    ("https:///nohost", ["job.completed"], "is not an http:// or https:// URL"),
    ("https://example.com/x", ["job.done"], "Unknown event 'job.done'; a webhook takes one or more of"),
    ("https://example.com/x", [], "a webhook takes one or more of job.completed"),
])
def test_a_bad_url_or_event_is_refused_in_one_line(studio: Studio, workspace_id: uuid.UUID, url: str,
                                                   events: list[str], words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as caught:
        add_webhook(studio.db, studio.secrets, workspace_id, url=url, events=events)
    assert "\n" not in str(caught.value)
    assert list_webhooks(studio.db, workspace_id) == []


def test_removing_a_webhook_removes_its_secret_and_deliveries(studio: Studio, workspace_id: uuid.UUID) -> None:
    info = add_webhook(studio.db, studio.secrets, workspace_id, url="http://127.0.0.1:9/x",
                       events=[JOB_FAILED], secret="abc")
    outbox.record(studio.db, Event("job-1-1", JOB_FAILED, utcnow(), workspace_id, {}))
    assert len(list_deliveries(studio.db, workspace_id, webhook_id=str(info.id))) == 1
    remove_webhook(studio.db, studio.secrets, workspace_id, str(info.id))
    assert list_webhooks(studio.db, workspace_id) == []
    assert studio.secrets.get(f"webhook.{info.id.hex}") is None
    with studio.db.session() as session:
        assert session.scalars(select(WebhookDelivery)).all() == []


def test_another_workspaces_webhooks_are_not_found(studio: Studio, workspace_id: uuid.UUID) -> None:
    other = studio.workspace("other", create=True)
    info = add_webhook(studio.db, studio.secrets, other.id, url="https://example.com/x", events=[JOB_FAILED])
    assert list_webhooks(studio.db, workspace_id) == []
    with pytest.raises(NotFound, match="No webhook with id"):
        remove_webhook(studio.db, studio.secrets, workspace_id, info.id)
    with pytest.raises(NotFound, match="No webhook with id 'nonsense'"):
        remove_webhook(studio.db, studio.secrets, workspace_id, "nonsense")
    outbox.record(studio.db, Event("job-2-1", JOB_FAILED, utcnow(), other.id, {}))
    assert list_deliveries(studio.db, workspace_id) == []
    [delivery] = list_deliveries(studio.db, other.id)
    with pytest.raises(NotFound, match="No delivery with id"):
        send_again(studio.db, workspace_id, delivery.id)
    with pytest.raises(InvalidInput, match="Only a failed delivery can be sent again"):
        send_again(studio.db, other.id, delivery.id)
    with studio.db.session() as session:
        assert session.get(Workspace, other.id) is not None
