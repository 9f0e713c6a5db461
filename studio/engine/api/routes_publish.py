"""/publish: the ``publish`` verbs over HTTP, through the same engine calls
(studio.engine.publish.service): the connected accounts, posting a produced plan item to a
platform (202 with the ``publish-post`` job; 409 when it is already posted or being posted),
and where an item was posted (status, link, error per platform).

Connecting an account needs the user's browser on the studio's machine, so it stays in the app
and the command line (``publish connect``)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.schemas import JobOut, job_view
from studio.engine.errors import Conflict
from studio.engine.plans.service import find_item
from studio.engine.publish import service
from studio.engine.publish.clients import display_name, platform_name

router = APIRouter(prefix="/publish", tags=["publish"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found in this workspace."}}
PlatformName = Literal["instagram", "tiktok", "youtube"]


class AccountOut(BaseModel):
    platform: str
    account_id: str
    name: str = Field(description="the handle or channel title")
    scopes: list[str]
    expires_at: datetime | None = Field(description="of the access token (refreshed before it expires)")
    connected_at: datetime


class PostIn(BaseModel):
    platform: PlatformName | None = Field(default=None, description="default: the item's own platform")


class PostOut(BaseModel):
    platform: str
    status: str = Field(description="pending, uploading, published, failed or manual")
    url: str
    remote_id: str = Field(description="the platform's post id")
    error: str
    published_at: datetime | None
    job_id: uuid.UUID | None
    note: str = Field(description="what the platform said beside the link (an inbox post, the quota used)")


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(studio: StudioDep, who: Reader) -> list[AccountOut]:
    return [AccountOut(platform=a.platform, account_id=a.account_id, name=a.name,
                       scopes=[str(s) for s in a.scopes or []], expires_at=a.expires_at,
                       connected_at=a.created_at)
            for a in service.accounts(studio, who.workspace_id)]


@router.post("/items/{item_id}", status_code=202, response_model=JobOut,
             responses={**NOT_FOUND, 409: {"description": "Already posted there, or being posted."}})
def post_item(item_id: uuid.UUID, studio: StudioDep, who: Writer, body: PostIn | None = None) -> JobOut:
    """Posts a produced item; at most once per platform, however often this is called."""
    item = find_item(studio, who.workspace_id, str(item_id))
    platform = platform_name(body.platform if body and body.platform else item.platform)
    job = service.submit_publish(studio, item.id, platform)
    if job is None:
        state = next((s for s in service.post_states(studio, who.workspace_id, item.id)
                      if s.platform == platform), None)
        where = display_name(platform)
        if state is not None and state.status == "published":
            raise Conflict(f"Already published on {where}: {state.url or state.remote_id}")
        raise Conflict(f"Already being posted to {where}.")
    return job_view(job, studio.paths.data_dir)


@router.get("/items/{item_id}", response_model=list[PostOut], responses=NOT_FOUND)
def item_posts(item_id: uuid.UUID, studio: StudioDep, who: Reader) -> list[PostOut]:
    item = find_item(studio, who.workspace_id, str(item_id))
    return [PostOut(platform=s.platform, status=s.status, url=s.url, remote_id=s.remote_id, error=s.error,
                    published_at=s.published_at, job_id=s.job_id, note=s.note)
            for s in service.post_states(studio, who.workspace_id, item.id)]
