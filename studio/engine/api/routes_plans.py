"""/plans: the ``plan`` verbs over HTTP, through the same engine calls (studio.engine.plans and
studio.engine.pipelines): the plans, a plan written by the LLM (202 with the job; refused at once
when the month's budget is used up), its items (read one, edit one), approving them, and
producing approved items (202 with one pipeline job per item)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.schemas import NOT_FOUND, JobOut, Message, Responses, job_view
from studio.engine.core import Studio
from studio.engine.db.models import PlanItem
from studio.engine.errors import Conflict, InvalidInput, NotFound
from studio.engine.influencers import get_influencer
from studio.engine.plans import service
from studio.engine.plans.service import MAX_DAYS, MAX_PER_DAY

router = APIRouter(prefix="/plans", tags=["plans"])
OVER_BUDGET: Responses = {**NOT_FOUND, 409: {"model": Message, "description": "The month's LLM budget is used up"}}
STALE: Responses = {**NOT_FOUND, 409: {"model": Message, "description": "The item changed since `version`"}}
Platform = Literal["instagram", "tiktok", "youtube-shorts"]  # plans.schema.PLATFORMS


def _instagram() -> list[Platform]:
    return ["instagram"]


class PlanOut(BaseModel):
    id: uuid.UUID
    name: str
    influencer_id: uuid.UUID
    influencer: str
    start_date: date
    end_date: date
    status: str
    items: int
    approved: int


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    plan_id: uuid.UUID
    scheduled_at: datetime
    platform: str
    status: str = Field(description="draft, approved, producing, ready, failed, …")
    topic: str
    hook: str
    caption: str
    hashtags: list[str]
    image_prompt: str
    video_prompt: str
    subtitle_text: str
    version: int
    updated_at: datetime


class PlanWithItems(PlanOut):
    item_list: list[ItemOut]


class PlanIn(BaseModel):
    """What ``plan generate --influencer --from --days --platform … --per-day --model --brief``
    takes."""

    model_config = ConfigDict(extra="forbid")

    influencer_id: uuid.UUID
    start: date = Field(description="the first day")
    days: int = Field(ge=1, le=MAX_DAYS)
    platforms: list[Platform] = Field(default_factory=_instagram, min_length=1)
    per_day: int = Field(default=1, ge=1, le=MAX_PER_DAY)
    model: str | None = Field(default=None, description="default: settings llm.plan_model, else llm.model")
    brief: str = Field(default="", max_length=4000, description="extra instructions for the whole plan")
    use_cache: bool = Field(default=True, description="false: ask the model even for a request "
                                                      "answered before")


class ItemPatch(BaseModel):
    """Fields to change (``plan edit --set``); those left out stay. ``version`` (optional)
    refuses an edit of an item changed since (409)."""

    model_config = ConfigDict(extra="forbid")

    topic: str | None = None
    hook: str | None = None
    caption: str | None = None
    image_prompt: str | None = None
    video_prompt: str | None = None
    subtitle_text: str | None = None
    scheduled_at: datetime | None = Field(default=None, description="without a zone: this machine's time")
    platform: Platform | None = None
    hashtags: list[str] | None = None
    version: int | None = None


class RegenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instruction: str = Field(default="", max_length=2000, description="what to change, e.g. 'an evening post'")
    model: str | None = Field(default=None, description="default: as for a new plan")
    use_cache: bool = True


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[uuid.UUID] = Field(default_factory=list, description="empty: every item of the plan")
    undo: bool = Field(default=False, description="true: set the items back to draft")


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[uuid.UUID] = Field(default_factory=list,
                                      description="empty: every approved item of the plan")


class Skipped(BaseModel):
    item_id: uuid.UUID
    reason: str


class RunOut(BaseModel):
    jobs: list[JobOut]
    skipped: list[Skipped]


class FileOut(BaseModel):
    name: str
    url: str = Field(description="GET this (with the token) for the file itself")


class StepOut(BaseModel):
    name: str = Field(description="image, video, export, publish")
    status: str = Field(description="waiting, running, done, failed")
    job_id: uuid.UUID | None
    progress: float
    detail: str
    files: list[FileOut] = Field(description="what the step made (the export's files are the post's)")


class PipelineOut(BaseModel):
    state: str = Field(description="idle, running, failed, ready")
    job_id: uuid.UUID | None
    steps: list[StepOut]


@router.get("", response_model=list[PlanOut])
def list_plans(studio: StudioDep, who: Reader, influencer_id: uuid.UUID | None = None) -> list[PlanOut]:
    if influencer_id is not None:
        get_influencer(studio, who.workspace_id, influencer_id)  # another workspace's: 404
    return [_plan(s) for s in service.list_plans(studio, who.workspace_id, influencer_id)]


@router.post("", status_code=202, response_model=JobOut, responses=OVER_BUDGET)
def generate_plan(body: PlanIn, studio: StudioDep, who: Writer) -> JobOut:
    """Queues the LLM job that writes the plan; its result names the new plan (``plan_id``).
    A workspace whose monthly LLM budget is used up gets 409 and nothing is queued."""
    from studio.engine.llm.budget import budget_status
    influencer = get_influencer(studio, who.workspace_id, body.influencer_id)
    budget = budget_status(studio.db, who.workspace_id)
    if budget.level == "exceeded":
        raise Conflict(budget.line)
    job = service.submit_generate_plan(
        studio, who.workspace_id, influencer, body.start, body.days, platforms=body.platforms,
        per_day=body.per_day, model=body.model, brief=body.brief, use_cache=body.use_cache)
    return job_view(job, studio.paths.data_dir)


# /plans/items/… before /plans/{plan_id}, so "items" is never read as a plan id.

@router.get("/items/{item_id}", response_model=ItemOut, responses=NOT_FOUND)
def show_item(item_id: uuid.UUID, studio: StudioDep, who: Reader) -> PlanItem:
    return service.find_item(studio, who.workspace_id, str(item_id))


@router.patch("/items/{item_id}", response_model=ItemOut, responses=STALE)
def edit_item(item_id: uuid.UUID, body: ItemPatch, studio: StudioDep, who: Writer) -> PlanItem:
    changes = body.model_dump(exclude_none=True, exclude={"version"})
    if not changes:
        raise InvalidInput("Nothing to change; give at least one field.")
    item = service.find_item(studio, who.workspace_id, str(item_id))
    return service.edit_item(studio, who.workspace_id, item.id, changes, expected_version=body.version)


@router.post("/items/{item_id}/run", status_code=202, response_model=JobOut, responses=NOT_FOUND)
def run_item(item_id: uuid.UUID, studio: StudioDep, who: Writer) -> JobOut:
    """Produces one approved item: picture, clip, export, publish folder (``plan run ITEM``)."""
    from studio.engine.pipelines.service import submit_pipeline
    item = service.find_item(studio, who.workspace_id, str(item_id))
    return job_view(submit_pipeline(studio, who.workspace_id, item.id), studio.paths.data_dir)


@router.get("/items/{item_id}/pipeline", response_model=PipelineOut, responses=NOT_FOUND)
def item_pipeline(item_id: uuid.UUID, studio: StudioDep, who: Reader) -> PipelineOut:
    from studio.engine.api.sanitize import clean_text
    from studio.engine.pipelines.service import pipeline_status
    status = pipeline_status(studio, who.workspace_id, item_id)
    made = service.find_item(studio, who.workspace_id, str(item_id)).pipeline or {}
    return PipelineOut(state=status.state, job_id=status.job_id,
                       steps=[StepOut(name=s.name, status=s.status, job_id=s.job_id, progress=s.progress,
                                      detail=clean_text(s.detail or "", studio.paths.data_dir),
                                      files=_files(item_id, s.name, made.get(s.name) or {}))
                              for s in status.steps])


@router.get("/items/{item_id}/files/{step}/{index}", response_class=FileResponse, responses=NOT_FOUND)
def item_file(item_id: uuid.UUID, step: Literal["image", "video", "export"], index: int,
              studio: StudioDep, who: Reader) -> FileResponse:
    """A file a step of the item's pipeline made, streamed, named by its file name alone."""
    from studio.engine.api.routes_generations import download
    made = (service.find_item(studio, who.workspace_id, str(item_id)).pipeline or {}).get(step) or {}
    files = [f for f in made.get("files") or [] if isinstance(f, str)]
    path = Path(files[index]).resolve() if 0 <= index < len(files) else None
    # Only the asset store's files: made on another machine (team mode), a file is not here.
    if path is None or not path.is_relative_to(studio.paths.assets_dir.resolve()) or not path.is_file():
        raise NotFound(f"No file {index} of the {step} step of this item on this machine.")
    return download(path)


@router.post("/items/{item_id}/regenerate", status_code=202, response_model=JobOut, responses=NOT_FOUND)
def regenerate_item(item_id: uuid.UUID, studio: StudioDep, who: Writer,
                    body: RegenerateIn | None = None) -> JobOut:
    """Writes one item anew (a job), e.g. with the instruction "an evening post"."""
    wanted = body or RegenerateIn()
    item = service.find_item(studio, who.workspace_id, str(item_id))
    job = service.submit_regenerate_item(studio, who.workspace_id, item, instruction=wanted.instruction,
                                         model=wanted.model, use_cache=wanted.use_cache)
    return job_view(job, studio.paths.data_dir)


@router.get("/{plan_id}", response_model=PlanWithItems, responses=NOT_FOUND)
def show_plan(plan_id: uuid.UUID, studio: StudioDep, who: Reader) -> PlanWithItems:
    summary = _summary(studio, who.workspace_id, plan_id)
    items = service.list_items(studio, who.workspace_id, plan_id)
    return PlanWithItems(**_plan(summary).model_dump(),
                         item_list=[ItemOut.model_validate(i) for i in items])


@router.get("/{plan_id}/items", response_model=list[ItemOut], responses=NOT_FOUND)
def list_items(plan_id: uuid.UUID, studio: StudioDep, who: Reader) -> list[PlanItem]:
    plan = service.find_plan(studio, who.workspace_id, str(plan_id))
    return list(service.list_items(studio, who.workspace_id, plan.id))


@router.post("/{plan_id}/approve", response_model=list[ItemOut], responses=NOT_FOUND)
def approve(plan_id: uuid.UUID, studio: StudioDep, who: Writer,
            body: ApproveIn | None = None) -> list[PlanItem]:
    """Approves the items named (all of the plan's when none is, or without a body), or sets
    them back to draft."""
    wanted = body or ApproveIn()
    ids = _items_of_plan(studio, who.workspace_id, plan_id, wanted.item_ids)
    return service.set_status(studio, who.workspace_id, ids, "draft" if wanted.undo else "approved")


@router.post("/{plan_id}/run", status_code=202, response_model=RunOut, responses=NOT_FOUND)
def run_plan(plan_id: uuid.UUID, studio: StudioDep, who: Writer, body: RunIn | None = None) -> RunOut:
    """Starts production of the plan's approved items (or of those named): one pipeline job
    each. An item that cannot start (not approved, already running) is listed with the reason;
    when none can, the answer is 422."""
    from studio.engine.pipelines.service import submit_pipeline
    plan = service.find_plan(studio, who.workspace_id, str(plan_id))
    named = body.item_ids if body is not None else []
    ids = (_items_of_plan(studio, who.workspace_id, plan.id, named) if named else
           [i.id for i in service.list_items(studio, who.workspace_id, plan.id) if i.status == "approved"])
    jobs, skipped = [], []
    for item_id in ids:
        try:
            jobs.append(job_view(submit_pipeline(studio, who.workspace_id, item_id), studio.paths.data_dir))
        except InvalidInput as exc:
            skipped.append(Skipped(item_id=item_id, reason=str(exc)))
    if not jobs:
        reasons = "; ".join(dict.fromkeys(s.reason for s in skipped)) or "it has no approved items"
        raise InvalidInput(f"Nothing of this plan can be produced: {reasons}")
    return RunOut(jobs=jobs, skipped=skipped)


def _summary(studio: Studio, workspace_id: uuid.UUID, plan_id: uuid.UUID) -> service.PlanSummary:
    plan = service.find_plan(studio, workspace_id, str(plan_id))
    found = [s for s in service.list_plans(studio, workspace_id, plan.influencer_id) if s.plan.id == plan.id]
    if not found:
        raise NotFound(f"No plan with id '{plan_id}' in this workspace.")
    return found[0]


def _items_of_plan(studio: Studio, workspace_id: uuid.UUID, plan_id: uuid.UUID,
                   wanted: list[uuid.UUID]) -> list[uuid.UUID]:
    """``wanted`` (every item when empty), each checked to be of this plan of this workspace."""
    plan = service.find_plan(studio, workspace_id, str(plan_id))
    items = [i.id for i in service.list_items(studio, workspace_id, plan.id)]
    if not wanted:
        if not items:
            raise InvalidInput("This plan has no items.")
        return items
    strangers = [str(i) for i in wanted if i not in items]
    if strangers:
        raise NotFound(f"No item {', '.join(strangers)} in this plan.")
    return list(dict.fromkeys(wanted))


def _files(item_id: uuid.UUID, step: str, made: dict[str, Any]) -> list[FileOut]:
    files = [f for f in made.get("files") or [] if isinstance(f, str)]
    return [FileOut(name=Path(f).name, url=f"{router.prefix}/items/{item_id}/files/{step}/{index}")
            for index, f in enumerate(files)]


def _plan(summary: service.PlanSummary) -> PlanOut:
    plan = summary.plan
    return PlanOut(id=plan.id, name=plan.name, influencer_id=plan.influencer_id, influencer=summary.influencer,
                   start_date=plan.start_date, end_date=plan.end_date, status=plan.status,
                   items=summary.items, approved=summary.approved)
