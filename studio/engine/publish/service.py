"""Posting a produced plan item to a platform: the ``publish-post`` job and what it records.

A post is a Publication row, one per item and platform (unique): submitting claims the row
with a compare-and-set on its version, so two submitters (two workers' schedules, a click and a
schedule) make one job between them, and an item already published, or with a live publish
job, is left alone (None). ``manual=True`` only marks the row ``manual``: left ready for the
user to post by hand.

The job never posts twice: before it calls the platform it marks the row ``uploading``; a run
that finds the row ``uploading`` (its process died mid-post, so nobody knows whether the post
went out) fails with a line that says so instead of posting again. Transient faults (429 with
Retry-After, 5xx, a cut connection) put the row back to ``pending`` and retry the job; a
permanent one fails it with the platform's reason in one line.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from studio.engine.core import Studio
from studio.engine.db.database import retry_if_stale, rows_changed
from studio.engine.db.models import Job, PlanItem, Publication, PublishAccount
from studio.engine.db.types import utcnow
from studio.engine.errors import Conflict, InvalidInput, NotFound, StudioError
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed, TransientError
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.service import NewJob
from studio.engine.jobs.status import ACTIVE
from studio.engine.publish import clients, media
from studio.engine.publish.clients import display_name, platform_name
from studio.engine.publish.platform import Published, PublishError

JOB_TYPE = "publish-post"
QUEUE = "general"  # network work that holds no GPU, as the plan and sync jobs
CLAIM_GRACE_S = 120.0  # a claim whose job was never queued (its process died) is free after this
FINAL = ("published", "manual")


@dataclass(frozen=True, slots=True)
class PublishPayload:
    item_id: uuid.UUID
    platform: str  # instagram, tiktok, youtube


@dataclass(frozen=True, slots=True)
class PublishResult:
    item_id: uuid.UUID
    platform: str
    status: str  # published
    remote_id: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class PostState:
    """One platform's post of an item, as the command line, the API and the app show it."""

    platform: str
    status: str  # pending, uploading, published, failed, manual
    url: str
    remote_id: str
    error: str
    published_at: datetime | None
    job_id: uuid.UUID | None
    note: str = ""  # what the platform said beside the link: an inbox post, the quota used


# Submitting ---------------------------------------------------------------------------------------

def submit_publish(studio: Studio, item_id: uuid.UUID, platform: str, *, manual: bool = False) -> Job | None:
    """Queues the item's post to ``platform``; None when there is nothing to queue (already
    published or being posted, or ``manual``: the row now says it waits to be posted by hand)."""
    name = platform_name(platform)
    claimed = _claim(studio, item_id, name, manual=manual)
    if claimed is None:
        return None
    workspace_id, publication_id, job_id, title = claimed
    order = NewJob(JOB_TYPE, PublishPayload(item_id=item_id, platform=name), title, job_id)
    try:
        [job] = studio.jobs.submit_all(workspace_id, [order])
    except Exception:  # nothing was queued: the claim is let go at once
        _set(studio, publication_id, status="failed", error="It could not be queued.", meta_drop="job")
        raise
    _set(studio, publication_id, job_id=job.id)
    return job


def record_refusal(studio: Studio, item_id: uuid.UUID, platform: str, reason: str) -> None:
    """A scheduled post that could not be handed to publishing (no account connected, say): its
    row says why, where the plan item shows it, and a later submit still claims it."""
    name = platform_name(platform)
    with studio.db.session() as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            return
        row = _find(session, item_id, name)
        if row is None:
            session.add(Publication(workspace_id=item.workspace_id, plan_item_id=item_id,
                                    platform=name, status="failed", error=reason))
        elif row.status not in FINAL and not _live(session, row):
            row.status, row.error = "failed", reason


def _claim(studio: Studio, item_id: uuid.UUID, platform: str, *,
           manual: bool) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, str] | None:
    """Claims the item's row for a new job (workspace, row, job id, title), or marks it manual."""
    publication_id = _publication_id(studio, item_id, platform, manual=manual)
    with studio.db.session() as session:
        item = session.get(PlanItem, item_id)
        row = session.get(Publication, publication_id)
        assert item is not None and row is not None
        if row.status == "published" or _live(session, row) or (manual and row.status == "manual"):
            return None
        job_id = uuid.uuid4()
        meta = dict(row.meta or {})
        if not manual:
            meta.update(job=str(job_id), claimed_at=utcnow().isoformat())
        changed = session.execute(update(Publication).where(
            Publication.id == row.id, Publication.version == row.version).values(
            status="manual" if manual else "pending", error="", meta=meta,
            version=Publication.version + 1, updated_at=utcnow()))
        if not rows_changed(changed) or manual:
            return None  # another submitter claimed it at the same moment, or nothing to queue
        title = f"Post to {display_name(platform)}: {item.topic[:60] or item.hook[:60]}"
        return item.workspace_id, row.id, job_id, title


def _publication_id(studio: Studio, item_id: uuid.UUID, platform: str, *, manual: bool) -> uuid.UUID:
    """The item's row for ``platform``, made when missing (a concurrent maker's row is taken);
    refused before anything is written when the item has no files or the platform no account."""
    for _ in range(2):
        with studio.db.session() as session:
            item = session.get(PlanItem, item_id)
            if item is None or item.deleted_at is not None:
                raise NotFound(f"No post with id '{item_id}'.")
            if not media.produced(item):
                raise InvalidInput(f"Only a produced post can be published; this one is {item.status} "
                                   f"(produce it first: plan run ITEM).")
            if not manual:
                _account(session, item.workspace_id, platform)  # not connected: said now, not later
            found = _find(session, item_id, platform)
            if found is not None:
                return found.id
        try:
            with studio.db.session() as session:
                row = Publication(workspace_id=item.workspace_id, plan_item_id=item_id, platform=platform)
                session.add(row)
                session.flush()
                return row.id
        except (IntegrityError, Conflict):
            continue  # made by another submitter in between: read it
    raise Conflict("The post's publishing record changed at the same time; try again.")


def _find(session: Session, item_id: uuid.UUID, platform: str) -> Publication | None:
    return session.scalars(select(Publication).where(Publication.plan_item_id == item_id,
                                                     Publication.platform == platform)).first()


def _live(session: Session, row: Publication) -> bool:
    """Whether a job posts it now: its job waits or runs, or was claimed moments ago."""
    claimed = (row.meta or {}).get("job")
    job_id = row.job_id or (uuid.UUID(claimed) if claimed else None)
    if job_id is None:
        return False
    job = session.get(Job, job_id)
    if job is not None:
        return job.status in ACTIVE
    at = str((row.meta or {}).get("claimed_at") or "")
    return bool(at) and utcnow() - datetime.fromisoformat(at) < timedelta(seconds=CLAIM_GRACE_S)


def _account(session: Session, workspace_id: uuid.UUID, platform: str) -> PublishAccount:
    account = session.scalars(select(PublishAccount).where(PublishAccount.workspace_id == workspace_id,
                                                           PublishAccount.platform == platform)).first()
    if account is None:
        shown = display_name(platform)
        raise InvalidInput(f"No {shown} account is connected; connect one in Preferences → Automation "
                           f"or with `publish connect {platform}`.")
    return account


def _set(studio: Studio, publication_id: uuid.UUID, *, meta: dict[str, Any] | None = None,
         meta_drop: str = "", **fields: Any) -> None:
    """One write to the row, merging ``meta`` into what it holds."""
    with studio.db.session() as session:
        row = session.get(Publication, publication_id)
        if row is None:
            return
        merged = {k: v for k, v in {**(row.meta or {}), **(meta or {})}.items() if k != meta_drop}
        session.execute(update(Publication).where(Publication.id == publication_id).values(
            **fields, meta=merged, version=Publication.version + 1, updated_at=utcnow()))


# The job ------------------------------------------------------------------------------------------

@job_type(JOB_TYPE, queue=QUEUE, payload=PublishPayload, result=PublishResult)
def publish_post(ctx: JobContext, payload: PublishPayload) -> PublishResult:
    studio = Studio(ctx.paths, ctx.settings, explicit_profile=ctx.paths.config_dir == ctx.paths.data_dir)
    try:
        return _post(ctx, studio, payload)
    finally:
        studio.close()


def _post(ctx: JobContext, studio: Studio, payload: PublishPayload) -> PublishResult:
    shown = display_name(payload.platform)
    row, item, account = _before_posting(ctx, studio, payload)
    if row.status == "published":  # a retry of a job whose post went out: nothing to do
        return PublishResult(payload.item_id, payload.platform, "published", row.remote_id, row.url)
    post = media.post_for(studio, item, ai_generated=ctx.settings.publish.ai_disclosure)
    client = clients.client_for(studio, account)
    _set(studio, row.id, status="uploading", error="", job_id=ctx.job_id)
    ctx.progress(0.0, stage=f"Posting to {shown}")
    try:
        done = client.publish(post, lambda f, m: ctx.progress(f, stage=f"Posting to {shown}", message=m))
    except PublishError as exc:
        raise _failure(studio, row.id, payload.platform, exc) from None
    except StudioError as exc:  # refused before posting (a clip too long for the platform)
        raise _failure(studio, row.id, payload.platform, PublishError(str(exc))) from None
    except Exception as exc:  # a fault the client did not foresee: the outcome is unknown
        _set(studio, row.id, status="failed", error=f"{shown}: {type(exc).__name__}: {exc}")
        raise
    _record(studio, row.id, item.id, payload.platform, done)
    ctx.progress(1.0, stage=f"Posted to {shown}", message=done.url)
    return PublishResult(payload.item_id, payload.platform, "published", done.remote_id, done.url)


def _before_posting(ctx: JobContext, studio: Studio,
                    payload: PublishPayload) -> tuple[Publication, PlanItem, PublishAccount]:
    """The row (checked to be this job's to post), the item and the account."""
    shown = display_name(payload.platform)
    with studio.db.session() as session:
        row = _find(session, payload.item_id, payload.platform)
        item = session.get(PlanItem, payload.item_id)
        if row is None or item is None:
            raise JobFailed("The post was deleted before it was published.")
        if row.status == "published":
            return row, item, PublishAccount(platform=payload.platform)
        if (row.meta or {}).get("job") != str(ctx.job_id):
            raise JobFailed(f"Another job posts this to {shown}; this one stops without posting.")
        if row.status == "uploading":
            error = (f"{shown}: an earlier attempt was cut off while posting, so it may have gone out; "
                     f"check the account, then post again if it is not there.")
            _set(studio, row.id, status="failed", error=error)
            raise JobFailed(error)
        try:
            account = _account(session, item.workspace_id, payload.platform)
        except InvalidInput as exc:
            _set(studio, row.id, status="failed", error=str(exc))
            raise JobFailed(str(exc)) from None
        return row, item, account


def _failure(studio: Studio, publication_id: uuid.UUID, platform: str,
             exc: PublishError) -> TransientError | JobFailed:
    """Records the error on the row; what the job raises for it."""
    shown = display_name(platform)
    if exc.reconnect:
        line = f"{shown}: the connection expired — reconnect {shown} in Preferences → Automation"
    else:
        text = str(exc)
        line = text if text.startswith(f"{shown}:") else f"{shown}: {text}"
    if exc.transient:  # not posted: the next attempt may post
        _set(studio, publication_id, status="pending", error=line)
        return TransientError(line, retry_after=exc.retry_after)
    _set(studio, publication_id, status="failed", error=line)
    return JobFailed(line)


def _record(studio: Studio, publication_id: uuid.UUID, item_id: uuid.UUID, platform: str,
            done: Published) -> None:
    """The post's id and URL on the row and in the item's pipeline state."""
    now = utcnow()
    _set(studio, publication_id, status="published", error="", remote_id=done.remote_id, url=done.url,
         published_at=now, meta={"platform": dict(done.meta)})
    entry = {"status": "published", "url": done.url, "remote_id": done.remote_id,
             "published_at": now.isoformat()}
    retry_if_stale(lambda: _note_on_item(studio, item_id, platform, entry))


def _note_on_item(studio: Studio, item_id: uuid.UUID, platform: str, entry: dict[str, str]) -> None:
    """``pipeline["publish"]["posted"][platform]``: beside the publish step's own entries."""
    with studio.db.session() as session:
        item = session.get(PlanItem, item_id)
        if item is None:
            return
        state = dict(item.pipeline or {})
        step = dict(state.get("publish") or {})
        state["publish"] = {**step, "posted": {**(step.get("posted") or {}), platform: entry}}
        item.pipeline = state


# Reading ------------------------------------------------------------------------------------------

def post_states(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID) -> list[PostState]:
    """The item's posts, one per platform it was (or is being) posted to."""
    with studio.db.session() as session:
        rows = session.scalars(select(Publication).where(
            Publication.workspace_id == workspace_id, Publication.plan_item_id == item_id)
            .order_by(Publication.platform)).all()
        return [_state(session, row) for row in rows]


def _state(session: Session, row: Publication) -> PostState:
    """A row still pending whose job ended (its retries spent) shows the job's end instead."""
    status, error = row.status, row.error
    job = session.get(Job, row.job_id) if row.job_id else None
    if status in ("pending", "uploading") and job is not None and job.status not in ACTIVE:
        status, error = "failed", row.error or job.error or job.message
    return PostState(row.platform, status, row.url, row.remote_id, error, row.published_at, row.job_id,
                     _note((row.meta or {}).get("platform")))


def _note(said: object) -> str:
    """One line from what the client returned with the post (``Published.meta``)."""
    if not isinstance(said, dict):
        return ""
    if said.get("message"):
        return str(said["message"])
    if said.get("quota_units"):
        return f"{said.get('quota_method', 'the upload')} used {said['quota_units']} quota unit(s)"
    if said.get("quota_usage"):
        return f"{said['quota_usage']} post(s) in the platform's 24-hour publishing window"
    return ""


def accounts(studio: Studio, workspace_id: uuid.UUID) -> list[PublishAccount]:
    with studio.db.session() as session:
        return list(session.scalars(select(PublishAccount).where(PublishAccount.workspace_id == workspace_id)
                                    .order_by(PublishAccount.platform)))
