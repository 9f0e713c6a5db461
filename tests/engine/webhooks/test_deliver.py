"""Deliveries sent for real to a local receiver: signed, retried with back-off, given up, once."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import WebhookDelivery
from studio.engine.db.types import utcnow
from studio.engine.events import JOB_COMPLETED, Event
from studio.engine.webhooks import outbox
from studio.engine.webhooks.deliver import BACKOFF_S, FIRST_RETRY_ENV, MAX_ATTEMPTS, backoff_s, deliver_due
from studio.engine.webhooks.store import add_webhook, list_deliveries, send_again
from tests.fakes.webhook_receiver import WebhookReceiver


def _event(workspace_id: uuid.UUID, n: int = 1) -> Event:
    return Event(id=f"job-{uuid.uuid4().hex}-{n}", type=JOB_COMPLETED, at=utcnow(),
                 workspace_id=workspace_id, data={"id": str(uuid.uuid4()), "status": "completed", "n": n})


def _delivery(studio: Studio) -> WebhookDelivery:
    with studio.db.session() as session:
        [row] = session.scalars(select(WebhookDelivery)).all()
        return row


def test_a_delivery_is_a_plain_json_post_signed_with_the_secret(studio: Studio, workspace_id: uuid.UUID,
                                                                receiver: WebhookReceiver) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url("/n8n/hook"),
                events=[JOB_COMPLETED], secret="s3cret-value")
    event = _event(workspace_id)
    assert outbox.record(studio.db, event) == 1

    assert deliver_due(studio.db, studio.secrets) == 1
    [got] = receiver.received
    assert got.method == "POST" and got.path == "/n8n/hook"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-studio-event"] == JOB_COMPLETED
    assert got.headers["x-studio-delivery"] == str(_delivery(studio).id)
    expected = "sha256=" + hmac.new(b"s3cret-value", got.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["x-studio-signature"], expected)
    assert got.json() == json.loads(event.body())
    assert got.json()["workspace_id"] == str(workspace_id)
    row = _delivery(studio)
    assert (row.status, row.attempts, row.last_status, row.last_error) == ("delivered", 1, 200, "")
    assert row.delivered_at is not None
    assert b"s3cret" not in row.body.encode()


def test_without_a_secret_no_signature_is_sent(studio: Studio, workspace_id: uuid.UUID,
                                               receiver: WebhookReceiver) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED])
    outbox.record(studio.db, _event(workspace_id))
    deliver_due(studio.db, studio.secrets)
    [got] = receiver.received
    assert "x-studio-signature" not in got.headers


def test_a_500_is_tried_again_after_the_back_off_and_then_delivered(studio: Studio,
                                                                    workspace_id: uuid.UUID) -> None:
    with WebhookReceiver([500, 200]) as receiver:
        add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED],
                    secret="k")
        outbox.record(studio.db, _event(workspace_id))
        start = utcnow()
        assert deliver_due(studio.db, studio.secrets, now=start) == 1
        row = _delivery(studio)
        assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
        assert "500" in row.last_error
        assert row.next_attempt_at == start + timedelta(seconds=BACKOFF_S[0])

        assert deliver_due(studio.db, studio.secrets, now=start + timedelta(seconds=5)) == 0  # not due
        assert deliver_due(studio.db, studio.secrets, now=start + timedelta(seconds=11)) == 1
        first, second = receiver.received
    assert first.raw == second.raw
    assert first.headers["x-studio-delivery"] == second.headers["x-studio-delivery"]
    assert first.headers["x-studio-signature"] == second.headers["x-studio-signature"]
    row = _delivery(studio)
    assert (row.status, row.attempts, row.last_status, row.last_error) == ("delivered", 2, 200, "")


@pytest.mark.parametrize(("value", "first"), [("0.5", 0.5), ("0", 0.0), ("3600", BACKOFF_S[0]),
                                             ("-1", 0.0), ("soon", BACKOFF_S[0]), ("inf", BACKOFF_S[0])])
def test_the_environment_may_only_shorten_the_first_wait(monkeypatch: pytest.MonkeyPatch, value: str,
                                                         first: float) -> None:
    monkeypatch.setenv(FIRST_RETRY_ENV, value)
    assert [backoff_s(n) for n in range(1, MAX_ATTEMPTS)] == [first, *BACKOFF_S[1:]]


def test_a_shortened_first_wait_is_the_one_a_500_gets(studio: Studio, workspace_id: uuid.UUID,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FIRST_RETRY_ENV, "0.5")
    with WebhookReceiver([500, 200]) as receiver:
        add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED])
        outbox.record(studio.db, _event(workspace_id))
        start = utcnow()
        deliver_due(studio.db, studio.secrets, now=start)
        assert _delivery(studio).next_attempt_at == start + timedelta(seconds=0.5)
        assert deliver_due(studio.db, studio.secrets, now=start + timedelta(seconds=0.5)) == 1
        assert len(receiver.received) == 2
    assert _delivery(studio).status == "delivered"


def test_a_client_error_fails_at_once(studio: Studio, workspace_id: uuid.UUID) -> None:
    with WebhookReceiver([404]) as receiver:
        add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED])
        outbox.record(studio.db, _event(workspace_id))
        deliver_due(studio.db, studio.secrets)
        deliver_due(studio.db, studio.secrets, now=utcnow() + timedelta(days=1))
        assert len(receiver.received) == 1
    row = _delivery(studio)
    assert (row.status, row.attempts, row.last_status) == ("failed", 1, 404)
    assert "\n" not in row.last_error and row.last_error.startswith("answered 404")


def test_a_429_waits_as_long_as_retry_after_asks(studio: Studio, workspace_id: uuid.UUID) -> None:
    with WebhookReceiver([429, 200], headers={"Retry-After": "120"}) as receiver:
        add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED])
        outbox.record(studio.db, _event(workspace_id))
        start = utcnow()
        deliver_due(studio.db, studio.secrets, now=start)
        assert _delivery(studio).next_attempt_at == start + timedelta(seconds=120)
        assert deliver_due(studio.db, studio.secrets, now=start + timedelta(seconds=60)) == 0
        assert deliver_due(studio.db, studio.secrets, now=start + timedelta(seconds=121)) == 1
    assert _delivery(studio).status == "delivered"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_receiver_is_given_up_after_six_tries(studio: Studio, workspace_id: uuid.UUID) -> None:
    add_webhook(studio.db, studio.secrets, workspace_id, url=f"http://127.0.0.1:{_closed_port()}/hook",
                events=[JOB_COMPLETED])
    outbox.record(studio.db, _event(workspace_id))
    moment = utcnow()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        assert deliver_due(studio.db, studio.secrets, now=moment) == 1
        row = _delivery(studio)
        if row.next_attempt_at is not None:
            waits.append((row.next_attempt_at - moment).total_seconds())
            moment = row.next_attempt_at
    assert waits == list(BACKOFF_S)
    assert (row.status, row.attempts, row.last_status) == ("failed", MAX_ATTEMPTS, None)
    assert row.last_error.startswith("could not reach the receiver")

    [info] = list_deliveries(studio.db, workspace_id, failed_only=True)
    send_again(studio.db, workspace_id, info.id)
    assert (_delivery(studio).status, _delivery(studio).attempts) == ("pending", 0)


def _two_loops_send_once(first: Studio, second: Studio, receiver: WebhookReceiver) -> None:
    """Twelve deliveries, two loops (each its own connections, as two workers) at the same moment."""
    workspace_id = first.workspace().id
    add_webhook(first.db, first.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED])
    for n in range(12):
        outbox.record(first.db, _event(workspace_id, n))
    start = threading.Barrier(2)
    sent: list[int] = []

    def loop(s: Studio, now: datetime) -> None:
        start.wait()
        sent.append(deliver_due(s.db, s.secrets, now=now, limit=12))
    threads = [threading.Thread(target=loop, args=(s, utcnow())) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ids = [r.headers["x-studio-delivery"] for r in receiver.received]
    assert sum(sent) == 12 and len(ids) == 12 and len(set(ids)) == 12
    assert {d.status for d in list_deliveries(first.db, workspace_id)} == {"delivered"}


def test_two_delivery_loops_on_one_database_send_each_delivery_once(studio: Studio,
                                                                    receiver: WebhookReceiver) -> None:
    second = Studio.open(studio.paths.data_dir)
    try:
        _two_loops_send_once(studio, second, receiver)
    finally:
        second.close()


def test_two_delivery_loops_on_postgresql_send_each_delivery_once(studio: Studio, postgres_url: str,
                                                                 receiver: WebhookReceiver) -> None:
    studio.settings.set("database.url", postgres_url)
    studio.save_settings()
    first, second = Studio.open(studio.paths.data_dir), Studio.open(studio.paths.data_dir)
    try:
        assert first.db.engine.dialect.name == "postgresql"
        _two_loops_send_once(first, second, receiver)
    finally:
        first.close()
        second.close()


def test_a_signed_webhook_whose_secret_is_gone_fails_without_sending(studio: Studio, workspace_id: uuid.UUID,
                                                                    receiver: WebhookReceiver) -> None:
    info = add_webhook(studio.db, studio.secrets, workspace_id, url=receiver.url(), events=[JOB_COMPLETED],
                       secret="abc")
    studio.secrets.delete(f"webhook.{info.id.hex}")
    outbox.record(studio.db, _event(workspace_id))
    deliver_due(studio.db, studio.secrets)
    assert receiver.received == []
    row = _delivery(studio)
    assert row.status == "failed" and "is not in the secret store" in row.last_error
