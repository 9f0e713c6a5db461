"""/webhooks: add, list, remove, deliveries and sending again, scoped to the token's workspace."""
from __future__ import annotations

import hashlib
import hmac
import typing
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from studio.engine.api.routes_webhooks import EventName
from studio.engine.core import Studio
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_FAILED, WEBHOOK_EVENTS, Event
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.webhooks import outbox
from studio.engine.webhooks.deliver import FIRST_RETRY_ENV, deliver_due
from tests.conftest import WorkerProcess, wait_until
from tests.engine.api.conftest import ApiProcess, Tokens, bearer, http
from tests.fakes.webhook_receiver import WebhookReceiver


def test_the_api_names_the_same_events_as_the_engine() -> None:
    assert typing.get_args(EventName) == WEBHOOK_EVENTS


def test_a_webhook_added_listed_and_removed(client: TestClient, studio: Studio, tokens: Tokens) -> None:
    added = client.post("/webhooks", json={"url": "https://n8n.example/webhook/1",
                                           "events": ["job.completed", "plan.item.ready"], "secret": "shh-123"})
    assert added.status_code == 201, added.text
    hook = added.json()
    assert hook["signed"] is True and hook["events"] == ["job.completed", "plan.item.ready"]
    assert "shh-123" not in added.text
    assert studio.secrets.get(f"webhook.{hook['id'].replace('-', '')}") == "shh-123"
    assert client.get("/webhooks").json() == [hook]
    assert client.get("/webhooks", headers=bearer(tokens.other)).json() == []
    assert client.delete(f"/webhooks/{hook['id']}", headers=bearer(tokens.other)).status_code == 404
    assert client.delete(f"/webhooks/{hook['id']}", headers=bearer(tokens.reader)).status_code == 403
    assert client.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert client.get("/webhooks").json() == []


def test_bad_input_is_a_422_naming_the_field(client: TestClient) -> None:
    wrong_event = client.post("/webhooks", json={"url": "https://x.example/h", "events": ["job.done"]})
    assert wrong_event.status_code == 422
    assert wrong_event.json()["detail"][0]["loc"] == ["body", "events", 0]
    wrong_url = client.post("/webhooks", json={"url": "ftp://x.example/h", "events": ["job.failed"]})
    assert wrong_url.status_code == 422
    assert "is not an http:// or https:// URL" in wrong_url.json()["detail"]
    assert client.get("/webhooks").json() == []


def test_deliveries_are_listed_and_a_failed_one_is_sent_again(client: TestClient, studio: Studio,
                                                              tokens: Tokens) -> None:
    with WebhookReceiver([410, 200]) as receiver:
        hook = client.post("/webhooks", json={"url": receiver.url(), "events": ["job.failed"]}).json()
        outbox.record(studio.db, Event("job-abc-2", JOB_FAILED, utcnow(), tokens.workspace_id, {"id": "abc"}))
        deliver_due(studio.db, studio.secrets)
        [failed] = client.get("/webhooks/deliveries", params={"failed": True}).json()
        assert (failed["status"], failed["attempts"], failed["last_status"]) == ("failed", 1, 410)
        assert failed["webhook_id"] == hook["id"] and failed["event"] == "job.failed"
        assert client.get("/webhooks/deliveries", headers=bearer(tokens.other)).json() == []
        assert client.post(f"/webhooks/deliveries/{failed['id']}/retry",
                           headers=bearer(tokens.other)).status_code == 404
        again = client.post(f"/webhooks/deliveries/{failed['id']}/retry")
        assert again.status_code == 202, again.text
        deliver_due(studio.db, studio.secrets)
        assert len(receiver.received) == 2
    [done] = client.get("/webhooks/deliveries", params={"webhook_id": hook["id"]}).json()
    assert (done["status"], done["last_status"]) == ("delivered", 200)
    assert client.get("/webhooks/deliveries", params={"failed": True}).json() == []


def test_acceptance_a_job_run_by_the_worker_reaches_a_receiver_signed_and_retried_after_a_500(
        api_factory: Callable[..., ApiProcess], worker_factory: Callable[..., WorkerProcess], studio: Studio,
        tokens: Tokens, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FIRST_RETRY_ENV, "0")  # the retry goes at once, not 10 s later (test_deliver waits)
    worker_factory()  # after the variable is set: the worker inherits it
    server = api_factory()
    picture = tmp_path / "look.png"
    Image.new("RGB", (64, 48), (200, 80, 120)).save(picture)
    with WebhookReceiver([500, 200]) as receiver, http(server.url, tokens.writer) as api:
        added = api.post("/webhooks", json={"url": receiver.url("/webhook/n8n"), "events": ["job.completed"],
                                            "secret": "n8n-shared-secret"})
        assert added.status_code == 201, added.text
        job = studio.jobs.submit(tokens.workspace_id, "make-thumbnails", ThumbnailPayload(files=(picture,)))
        wait_until(lambda: len(receiver.received) >= 2, timeout=90, what="the delivery and its retry")
        [delivery] = api.get("/webhooks/deliveries").json()
    first, second = receiver.received
    assert first.raw == second.raw and second.headers["x-studio-delivery"] == delivery["id"]
    expected = "sha256=" + hmac.new(b"n8n-shared-secret", second.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(second.headers["x-studio-signature"], expected)
    event = second.json()
    assert (event["type"], event["data"]["id"], event["data"]["status"]) == ("job.completed", str(job.id),
                                                                             "completed")
    assert str(studio.paths.data_dir) not in second.raw.decode() and str(tmp_path) not in second.raw.decode()
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("delivered", 2, 200)
