"""The automation tables: API tokens, webhooks and their deliveries, connected publishing accounts,
publications and daily production schedules (migration 0012)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from studio.engine.db.models import Scoped
from studio.engine.db.redacted import RedactedJSON, RedactedText


class ApiToken(Scoped):
    """A bearer token of the local HTTP API, scoped to one workspace; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Webhook(Scoped):
    """A URL told of events (job.completed, job.failed, plan.item.ready, …); its signing secret,
    when it has one, is in the secret store under ``secret_name``."""

    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]] = mapped_column(default=list)
    secret_name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebhookDelivery(Scoped):
    """One event for one webhook: the exact body sent (and signed), tried until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"),
                                                  index=True)
    event: Mapped[str] = mapped_column(String(60))
    event_id: Mapped[str] = mapped_column(String(64))  # the same event is delivered once per webhook
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)  # the receiver's HTTP status
    last_error: Mapped[str] = mapped_column(RedactedText, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class PublishAccount(Scoped):
    """A connected Instagram, TikTok or YouTube account; its OAuth tokens are in the secret store."""

    __tablename__ = "publish_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "platform"),)

    platform: Mapped[str] = mapped_column(String(20))  # instagram, tiktok, youtube
    account_id: Mapped[str] = mapped_column(String(200), default="")  # the platform's user id
    name: Mapped[str] = mapped_column(String(200), default="")  # the handle or channel title
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)  # of the access token
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Publication(Scoped):
    """A plan item posted (or being posted) to one platform: at most one per item and platform."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("plan_item_id", "platform"),)

    plan_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"),
                                                    index=True)
    platform: Mapped[str] = mapped_column(String(20))
    # pending, uploading, processing, published, failed, manual (left ready for the user to post)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     index=True, default=None)
    remote_id: Mapped[str] = mapped_column(String(200), default="")  # the platform's post id
    url: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(RedactedText, default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(RedactedJSON(url_passwords=False), default=dict)


class ProductionSchedule(Scoped):
    """An influencer's daily run: at ``at`` (HH:MM local time) the next day's posts are planned
    within budget and queued for production (for approval, or approved when ``auto_approve``)."""

    __tablename__ = "production_schedules"
    __table_args__ = (UniqueConstraint("influencer_id"),)

    influencer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    at: Mapped[str] = mapped_column(String(5), default="09:00")
    posts_per_day: Mapped[int] = mapped_column(Integer, default=1)
    platforms: Mapped[list[Any]] = mapped_column(default=list)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last day (local) whose slot ran: a worker claims a slot by moving this forward with a
    # compare-and-set, so a slot runs once however many workers look.
    last_slot: Mapped[date | None] = mapped_column(Date, default=None)
