"""ORM models. Every row carries ``workspace_id`` (the tenant), UUID keys, timestamps and a version.

The version column is SQLAlchemy's optimistic concurrency counter: a write based on a stale
row raises instead of overwriting someone else's change.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from studio.engine.db.redacted import RedactedJSON, RedactedText
from studio.engine.db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Record(Base):
    """Identity, timestamps and version shared by every table."""

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805  # declared_attr methods take the class
        return {"version_id_col": cls.version}


class Scoped(Record):
    """A row that belongs to one workspace."""

    __abstract__ = True

    @declared_attr
    def workspace_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805  # declared_attr methods take the class
        return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)


class Trashable:
    """User content: deleting moves it to the trash; purge removes it and its files."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class Content(Scoped, Trashable):
    """A workspace's row that goes to the trash before it is purged."""

    __abstract__ = True


class Workspace(Record):
    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # In the row, not the settings file: in team mode every member works against one budget.
    monthly_budget_usd: Mapped[float | None] = mapped_column(Float, default=None)

    @property
    def workspace_id(self) -> uuid.UUID:
        """A workspace is its own tenant."""
        return self.id


class Influencer(Content):
    __tablename__ = "influencers"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    trigger_word: Mapped[str] = mapped_column(String(80), default="")
    tone: Mapped[str] = mapped_column(Text, default="")
    style: Mapped[str] = mapped_column(Text, default="")
    voice: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(35), default="en")
    notes: Mapped[str] = mapped_column(Text, default="")
    # No foreign key: assets already point at influencers, and a cycle buys nothing here.
    avatar_asset_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # Reference faces and their centroid (studio/engine/identity/references.py).
    identity: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class Dataset(Content):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("workspace_id", "influencer_id", "name"),)

    influencer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"),
                                                     index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    class_token: Mapped[str] = mapped_column(String(80), default="")  # e.g. "woman" in "10_mia woman"
    repeats: Mapped[int] = mapped_column(Integer, default=10)
    tag_separator: Mapped[str] = mapped_column(String(8), default=",")


class DatasetImage(Content):
    __tablename__ = "dataset_images"
    __table_args__ = (UniqueConstraint("dataset_id", "sha256"),)

    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                                  index=True)
    storage_key: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str] = mapped_column(String(500), default="")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[str | None] = mapped_column(String(64), default=None)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    quality: Mapped[dict[str, Any]] = mapped_column(default=dict)
    faces: Mapped[list[Any]] = mapped_column(default=list)
    crop: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    caption: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    source_name: Mapped[str] = mapped_column(String(1000), default="")  # path inside the import
    format: Mapped[str] = mapped_column(String(16), default="")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    crop_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    near_dup_group: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    analyzed_at: Mapped[datetime | None] = mapped_column(default=None)
    # One descriptor per face in ``faces`` (same order), base64 float32 (identity/descriptors.py).
    face_descriptors: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    # The verdict against the influencer's references: distance, her face, flags (identity/dataset.py).
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class CaptionBatch(Scoped):
    """One undoable caption operation (a single edit or a batch over many images)."""

    __tablename__ = "caption_batches"
    __table_args__ = (UniqueConstraint("dataset_id", "seq"),)

    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                                  index=True)
    label: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)  # order within the dataset's history
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class CaptionChange(Base):
    """The before and after of one image's caption in a batch; only changed images are stored."""

    __tablename__ = "caption_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caption_batches.id", ondelete="CASCADE"),
                                                index=True)
    image_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_images.id", ondelete="CASCADE"))
    # What the step changed: "caption" (the texts below) or "excluded" ("yes"/"no").
    field: Mapped[str] = mapped_column(String(16), default="caption", server_default="caption")
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)


class LoraModel(Content):
    __tablename__ = "lora_models"

    influencer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("influencers.id", ondelete="SET NULL"), index=True, default=None)
    name: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(500))
    base_model: Mapped[str] = mapped_column(String(200), default="")
    training_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Job(Scoped):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_updated_at", "updated_at"),)  # the job hub reads changed jobs

    type: Mapped[str] = mapped_column(String(60), index=True)
    queue: Mapped[str] = mapped_column(String(30))
    # "pending" is JobStatus.PENDING, spelled out: the db package sits below the jobs package
    status: Mapped[str] = mapped_column(String(20), index=True, default="pending")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300), default="")
    # A server's answer can reach these four: secrets are taken out as they are written.
    payload: Mapped[dict[str, Any]] = mapped_column(RedactedJSON(url_passwords=False), default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(RedactedJSON(), default=None)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(120), default="")
    message: Mapped[str] = mapped_column(RedactedText, default="")
    error: Mapped[str] = mapped_column(RedactedText, default="")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=4)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    task_id: Mapped[str | None] = mapped_column(String(64), default=None)
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    # The job that started this one as a step (a pipeline); None for a job of its own.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                        index=True, default=None)


class Asset(Content):
    __tablename__ = "assets"

    kind: Mapped[str] = mapped_column(String(30), index=True)  # image, video, avatar, lora, …
    storage_key: Mapped[str] = mapped_column(String(500))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     index=True, default=None)
    influencer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("influencers.id", ondelete="SET NULL"), index=True, default=None)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContentPlan(Content):
    __tablename__ = "content_plans"

    influencer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"),
                                                     index=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")


class PlanItem(Content):
    __tablename__ = "plan_items"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content_plans.id", ondelete="CASCADE"),
                                               index=True)
    scheduled_at: Mapped[datetime]
    platform: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(Text, default="")
    hook: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list[Any]] = mapped_column(default=list)
    image_prompt: Mapped[str] = mapped_column(Text, default="")
    video_prompt: Mapped[str] = mapped_column(Text, default="")
    subtitle_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Its pipeline's steps: {"image": {"job_id", "done", "files"}, "video": …, "export": …,
    # "publish": {"folder"}}; finished steps are never run again.
    pipeline: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LLMCall(Scoped):
    """One chat completion, paid or answered from the cache: the spend ledger."""

    __tablename__ = "llm_calls"

    day: Mapped[date] = mapped_column(Date, index=True)  # UTC
    model: Mapped[str] = mapped_column(String(200))  # the model that answered (and billed)
    purpose: Mapped[str] = mapped_column(String(60), default="")  # e.g. plan, caption
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     index=True, default=None)
    influencer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("influencers.id", ondelete="SET NULL"), index=True, default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    generation_id: Mapped[str] = mapped_column(String(100), default="")
    # reserved (before the request; cost_usd holds the reservation), settled (the real cost),
    # released (nothing was paid) or unsettled (no answer came: counted at the reservation).
    state: Mapped[str] = mapped_column(String(12), default="settled", server_default="settled",
                                       index=True)
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class WorkerRecord(Base):
    """A worker process and its heartbeat; machine-level, so it belongs to no workspace."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[Any]] = mapped_column(default=list)
    app_version: Mapped[str] = mapped_column(String(40), default="")
    gpu: Mapped[str] = mapped_column(String(200), default="")  # e.g. "NVIDIA RTX 4090, 24564 MiB"
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    # The database role that wrote the row (PostgreSQL fills it in): a workspace role may change
    # only its own records (migration 0010). Never set here, so the server's default applies.
    owner_role: Mapped[str | None] = mapped_column(String(63))


class ChangeRecord(Base):
    """One row written by one process: how the others learn what changed (engine/db/changes.py).

    Append-only and short-lived (pruned after a day), so it carries no version; it has
    ``workspace_id`` so row-level security on the server keeps workspaces apart here too."""

    __tablename__ = "change_log"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    entity: Mapped[str] = mapped_column(String(30))
    entity_ids: Mapped[list[Any]] = mapped_column(default=list)  # empty: "some rows of this kind"
    op: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True, default=utcnow)


TRASHABLE: dict[str, type[Content]] = {
    "influencer": Influencer, "dataset": Dataset, "image": DatasetImage, "lora": LoraModel,
    "asset": Asset, "plan": ContentPlan, "plan-item": PlanItem,
}



# The automation tables (API tokens, webhooks, publishing, schedules) live in their own module;
# imported here so every table is on Base.metadata and importable from this module.
from studio.engine.db.models_automation import ApiToken as ApiToken  # noqa: E402
from studio.engine.db.models_automation import ProductionSchedule as ProductionSchedule  # noqa: E402
from studio.engine.db.models_automation import Publication as Publication  # noqa: E402
from studio.engine.db.models_automation import PublishAccount as PublishAccount  # noqa: E402
from studio.engine.db.models_automation import Webhook as Webhook  # noqa: E402
from studio.engine.db.models_automation import WebhookDelivery as WebhookDelivery  # noqa: E402
