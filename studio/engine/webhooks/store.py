"""Webhooks of a workspace: added, listed, removed; their deliveries listed and sent again.

A webhook's signing secret goes to the secret store under ``webhook.<id>``; the row keeps only
that name, so the database never holds it.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select, update

from studio.engine.db.database import Database, rows_changed
from studio.engine.db.models import Webhook, WebhookDelivery
from studio.engine.db.types import utcnow
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.events import WEBHOOK_EVENTS
from studio.engine.webhooks import outbox

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
DELIVERY_STATUSES = (PENDING, DELIVERED, FAILED)
URL_LIMIT = 2000
DELIVERIES_SHOWN = 50
_Row = TypeVar("_Row", Webhook, WebhookDelivery)


class Secrets(Protocol):
    """What of the secret store a webhook needs (studio.engine.secrets.SecretStore has it)."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    id: uuid.UUID
    url: str
    events: tuple[str, ...]
    signed: bool
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    id: uuid.UUID
    webhook_id: uuid.UUID
    url: str
    event: str
    event_id: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_LIMIT:
        raise InvalidInput(f"'{url[:200]}' is not an http:// or https:// URL with a host.")
    return url


def check_events(events: Iterable[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(e.strip() for e in events if e.strip()))
    unknown = [e for e in names if e not in WEBHOOK_EVENTS]
    if unknown or not names:
        raise InvalidInput(f"Unknown event '{unknown[0] if unknown else ''}'; a webhook takes one or more "
                           f"of {', '.join(WEBHOOK_EVENTS)}.")
    return names


def add_webhook(db: Database, secrets: Secrets, workspace_id: uuid.UUID, *, url: str,
                events: Iterable[str], secret: str | None = None) -> WebhookInfo:
    row = Webhook(id=uuid.uuid4(), workspace_id=workspace_id, url=check_url(url),
                  events=list(check_events(events)))
    if secret:
        row.secret_name = f"webhook.{row.id.hex}"
        secrets.set(row.secret_name, secret)  # first: a refused secret leaves no webhook behind
    with db.session() as session:
        session.add(row)
        session.flush()
        info = _info(row)
    outbox.forget_cache()
    return info


def list_webhooks(db: Database, workspace_id: uuid.UUID) -> list[WebhookInfo]:
    with db.session() as session:
        rows = session.scalars(select(Webhook).where(Webhook.workspace_id == workspace_id)
                               .order_by(Webhook.created_at)).all()
        return [_info(row) for row in rows]


def remove_webhook(db: Database, secrets: Secrets, workspace_id: uuid.UUID, webhook_id: str | uuid.UUID) -> None:
    """The webhook, its deliveries (the foreign key cascades) and its secret."""
    with db.session() as session:
        row = _own(session.get(Webhook, _uuid(webhook_id, "webhook")), workspace_id, webhook_id, "webhook")
        secret_name = row.secret_name
        session.delete(row)
    if secret_name:
        secrets.delete(secret_name)
    outbox.forget_cache()


def list_deliveries(db: Database, workspace_id: uuid.UUID, *, webhook_id: str | uuid.UUID | None = None,
                    failed_only: bool = False, limit: int = DELIVERIES_SHOWN) -> list[DeliveryInfo]:
    """The newest deliveries first."""
    query = (select(WebhookDelivery, Webhook.url).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
             .where(WebhookDelivery.workspace_id == workspace_id))
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == _uuid(webhook_id, "webhook"))
    if failed_only:
        query = query.where(WebhookDelivery.status == FAILED)
    with db.session() as session:
        rows = session.execute(query.order_by(WebhookDelivery.created_at.desc()).limit(limit)).all()
        return [_delivery(row, url) for row, url in rows]


def send_again(db: Database, workspace_id: uuid.UUID, delivery_id: str | uuid.UUID) -> None:
    """A given-up delivery goes out once more, with a fresh round of tries."""
    key = _uuid(delivery_id, "delivery")
    with db.session() as session:
        _own(session.get(WebhookDelivery, key), workspace_id, delivery_id, "delivery")
        changed = rows_changed(session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == key, WebhookDelivery.status == FAILED)
            .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), last_error="",
                    version=WebhookDelivery.version + 1, updated_at=utcnow())))
    if not changed:
        raise InvalidInput("Only a failed delivery can be sent again; this one is not failed.")
    outbox.WAKE.set()


def find_id(known: Sequence[WebhookInfo | DeliveryInfo], given: str, what: str) -> uuid.UUID:
    """The id ``given`` names among ``known``: whole, or a unique start of one (as ``jobs`` takes)."""
    text = given.strip().lower()
    matches = [info.id for info in known if str(info.id) == text or (len(text) >= 4 and str(info.id).startswith(text))]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(f"'{given}' is the start of {len(matches)} {what} ids; give more of it.")
    raise NotFound(f"No {what} with id '{given}' in this workspace.")


def _own(row: _Row | None, workspace_id: uuid.UUID, given: object, what: str) -> _Row:
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"No {what} with id '{given}' in this workspace.")
    return row


def _uuid(value: str | uuid.UUID, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise NotFound(f"No {what} with id '{value}' in this workspace.") from None


def _info(row: Webhook) -> WebhookInfo:
    return WebhookInfo(row.id, row.url, tuple(row.events or ()), bool(row.secret_name), row.active,
                       row.created_at)


def _delivery(row: WebhookDelivery, url: str) -> DeliveryInfo:
    return DeliveryInfo(row.id, row.webhook_id, url, row.event, row.event_id, row.status, row.attempts,
                        row.last_status, row.last_error, row.next_attempt_at, row.delivered_at,
                        row.created_at)
