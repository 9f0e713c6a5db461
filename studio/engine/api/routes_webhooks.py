"""/webhooks: ``api webhook add|list|remove|deliveries`` over HTTP, and sending a failed
delivery again. A secret given here goes to the secret store and is never shown again."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.schemas import NOT_FOUND, Message
from studio.engine.webhooks import store

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
EventName = Literal["job.completed", "job.failed", "job.canceled", "plan.item.ready"]


class WebhookIn(BaseModel):
    url: str = Field(description="where the events are POSTed (http:// or https://)", max_length=store.URL_LIMIT)
    events: list[EventName] = Field(min_length=1, description="the event types to send")
    secret: str | None = Field(default=None, min_length=1, max_length=512,
                               description="signs each body: X-Studio-Signature: sha256=<HMAC-SHA256 hex>")


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    signed: bool = Field(description="whether deliveries carry X-Studio-Signature")
    active: bool
    created_at: datetime


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    url: str
    event: str
    event_id: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    last_status: int | None = Field(description="the receiver's last HTTP status; null: no answer")
    last_error: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


@router.get("", response_model=list[WebhookOut])
def list_webhooks(studio: StudioDep, who: Reader) -> list[WebhookOut]:
    return [_out(info) for info in store.list_webhooks(studio.db, who.workspace_id)]


@router.post("", status_code=201, response_model=WebhookOut)
def add_webhook(body: WebhookIn, studio: StudioDep, who: Writer) -> WebhookOut:
    info = store.add_webhook(studio.db, studio.secrets, who.workspace_id, url=body.url, events=body.events,
                             secret=body.secret)
    return _out(info)


@router.delete("/{webhook_id}", status_code=204, responses=NOT_FOUND)
def remove_webhook(webhook_id: str, studio: StudioDep, who: Writer) -> Response:
    store.remove_webhook(studio.db, studio.secrets, who.workspace_id, webhook_id)
    return Response(status_code=204)


@router.get("/deliveries", response_model=list[DeliveryOut])
def list_deliveries(studio: StudioDep, who: Reader,
                    webhook_id: Annotated[uuid.UUID | None, Query(description="one webhook's only")] = None,
                    failed: Annotated[bool, Query(description="only the given-up ones")] = False,
                    limit: Annotated[int, Query(ge=1, le=500)] = store.DELIVERIES_SHOWN) -> list[DeliveryOut]:
    """The newest deliveries first."""
    found = store.list_deliveries(studio.db, who.workspace_id, webhook_id=webhook_id, failed_only=failed,
                                  limit=limit)
    return [DeliveryOut(**{name: getattr(d, name) for name in DeliveryOut.model_fields}) for d in found]


@router.post("/deliveries/{delivery_id}/retry", status_code=202, response_model=Message, responses=NOT_FOUND)
def send_again(delivery_id: str, studio: StudioDep, who: Writer) -> Message:
    """A failed delivery goes out again (with a fresh round of tries) from the worker."""
    store.send_again(studio.db, who.workspace_id, delivery_id)
    return Message(detail="The delivery will be sent again.")


def _out(info: store.WebhookInfo) -> WebhookOut:
    return WebhookOut(id=info.id, url=info.url, events=list(info.events), signed=info.signed,
                      active=info.active, created_at=info.created_at)
