"""Sending the deliveries: a plain JSON POST, signed, tried again with back-off, outcome recorded.

Headers: ``Content-Type: application/json``, ``X-Studio-Event`` (the event type),
``X-Studio-Delivery`` (the delivery's id, the same on every try) and, when the webhook has a
secret, ``X-Studio-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>``.
A refused connection, a timeout, 408, 429 and 5xx are tried again after 10 s, 1 min, 5 min,
30 min and 2 h (429's Retry-After when longer); after the sixth try the delivery has failed.
INFLUENCERAI_WEBHOOK_FIRST_RETRY_S shortens the first wait (a receiver being set up, a test).
Any other answer below 200 or from 300 up fails at once (a redirect is not followed).

Several workers may run this on one database: a delivery is claimed by moving its
``next_attempt_at`` past the send (a compare-and-set on status and due time), so one is sent by
one worker; a worker that dies mid-send leaves it due again when the lease runs out.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

from studio.engine.db.database import Database, rows_changed
from studio.engine.db.models import Webhook, WebhookDelivery
from studio.engine.db.types import utcnow
from studio.engine.retry_after import retry_after_s
from studio.engine.webhooks.store import DELIVERED, FAILED, PENDING, Secrets

BACKOFF_S = (10.0, 60.0, 300.0, 1800.0, 7200.0)
FIRST_RETRY_ENV = "INFLUENCERAI_WEBHOOK_FIRST_RETRY_S"
MAX_ATTEMPTS = len(BACKOFF_S) + 1
LEASE_S = 120.0  # longer than a send can take (TIMEOUT_S, a few connects)
TIMEOUT_S = 10.0
BATCH = 20
_TRANSIENT = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None  # None: no answer (refused, timed out, cut)
    error: str
    retry_after_s: float | None = None
    permanent: bool = False  # trying again cannot help (a secret gone from the store)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def transient(self) -> bool:
        code = self.status_code
        return not self.permanent and (code is None or code in _TRANSIENT or code >= 500)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    event: str
    body: str
    url: str
    secret_name: str
    attempts: int


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def headers_for(claimed: Claimed, body: bytes, secret: str | None) -> dict[str, str]:
    from studio import __version__
    headers = {"Content-Type": "application/json", "User-Agent": f"InfluencerAI-Studio/{__version__}",
               "X-Studio-Event": claimed.event, "X-Studio-Delivery": str(claimed.id)}
    if secret:
        headers["X-Studio-Signature"] = signature(secret, body)
    return headers


def deliver_due(db: Database, secrets: Secrets, *, now: datetime | None = None,
                client: httpx.Client | None = None, limit: int = BATCH) -> int:
    """Sends the deliveries due at ``now`` that this caller claims; how many it sent."""
    now = now or utcnow()
    own = client is None
    http = client or new_client()
    sent = 0
    try:
        for delivery_id in due_ids(db, now, limit):
            claimed = claim(db, delivery_id, now)
            if claimed is None:
                continue  # another worker took it
            settle(db, claimed, _try(http, secrets, claimed), now)
            sent += 1
    finally:
        if own:
            http.close()
    return sent


def _try(http: httpx.Client, secrets: Secrets, claimed: Claimed) -> Outcome:
    body = claimed.body.encode("utf-8")
    secret = secrets.get(claimed.secret_name) if claimed.secret_name else None
    if claimed.secret_name and not secret:  # sent unsigned, a careful receiver would refuse it
        return Outcome(None, f"its signing secret '{claimed.secret_name}' is not in the secret store; "
                             "remove the webhook and add it again with a secret", permanent=True)
    return send(http, claimed.url, body, headers_for(claimed, body, secret))


def new_client() -> httpx.Client:
    from studio.engine.tls import tls_context
    return httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, verify=tls_context())


def due_ids(db: Database, now: datetime, limit: int = BATCH) -> list[uuid.UUID]:
    with db.session() as session:
        return list(session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.status == PENDING,
                                             WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all())


def claim(db: Database, delivery_id: uuid.UUID, now: datetime) -> Claimed | None:
    """The delivery, taken for one send, or None when another worker has it (or it is done)."""
    lease = now + timedelta(seconds=LEASE_S)
    with db.session() as session:
        taken = rows_changed(session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
                                          WebhookDelivery.next_attempt_at <= now)
            .values(next_attempt_at=lease, version=WebhookDelivery.version + 1, updated_at=utcnow())))
        if not taken:
            return None
        row = session.execute(
            select(WebhookDelivery.event, WebhookDelivery.body, WebhookDelivery.attempts, Webhook.url,
                   Webhook.secret_name).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)).one()
    return Claimed(delivery_id, row.event, row.body, row.url, row.secret_name, row.attempts)


def send(http: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        answer = http.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {TIMEOUT_S:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, _one_line(f"could not reach the receiver: {type(exc).__name__}: {exc}"))
    code = answer.status_code
    if 200 <= code < 300:
        return Outcome(code, "")
    if 300 <= code < 400:
        return Outcome(code, f"answered {code} (a redirect, not followed: give the final URL)")
    return Outcome(code, _one_line(f"answered {code} {answer.reason_phrase}: {answer.text[:200]}".strip(": ")),
                   retry_after_s(answer.headers.get("retry-after")) if code == 429 else None)


def settle(db: Database, claimed: Claimed, outcome: Outcome, now: datetime) -> str:
    """Records one try's outcome; the delivery's new status."""
    attempts = claimed.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "last_status": outcome.status_code,
                                 "last_error": outcome.error}
    if outcome.delivered:
        values |= {"status": DELIVERED, "delivered_at": now, "next_attempt_at": None}
    elif outcome.transient and attempts < MAX_ATTEMPTS:
        wait = max(backoff_s(attempts), min(outcome.retry_after_s or 0.0, BACKOFF_S[-1]))
        values |= {"status": PENDING, "next_attempt_at": now + timedelta(seconds=wait)}
    else:
        values |= {"status": FAILED, "next_attempt_at": None}
    with db.session() as session:  # through the ORM, so the change log tells the app's panel
        row = session.get(WebhookDelivery, claimed.id)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)
    return str(values["status"])


def backoff_s(attempts: int) -> float:
    """The wait after try number ``attempts``; the environment may only shorten the first."""
    if attempts == 1:
        try:
            wanted = float(os.environ.get(FIRST_RETRY_ENV, ""))
        except ValueError:
            wanted = math.nan  # unset or not a number: the usual wait
        if math.isfinite(wanted):
            return min(max(wanted, 0.0), BACKOFF_S[0])
    return BACKOFF_S[attempts - 1]


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
