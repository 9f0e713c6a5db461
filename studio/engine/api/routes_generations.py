"""/generations: the ``generate`` verbs over HTTP, through the same engine calls
(studio.engine.comfyui): the workflow templates with their parameters, a submit that queues one
job per image (checked against ComfyUI first, as the CLI's), and the gallery of generated images
with their recipes and a download of each file by its id (the file streams; its place on this
machine is never named)."""
from __future__ import annotations

import mimetypes
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.sanitize import clean_value
from studio.engine.api.schemas import NOT_FOUND, JobOut, job_view
from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.errors import NotFound
from studio.engine.influencers import get_influencer

if TYPE_CHECKING:
    from studio.engine.comfyui.workflows import Parameter

router = APIRouter(prefix="/generations", tags=["generations"])
MAX_COUNT = 100  # as generation.MAX_COUNT; here so the schema states it
Value = str | int | float | bool | None


class ParameterOut(BaseModel):
    name: str
    type: str
    default: Any
    minimum: float | None
    maximum: float | None
    step: int | None
    title: str
    description: str


class TemplateOut(BaseModel):
    name: str
    title: str
    base: str = Field(description="the model family: sd15, sdxl, … or other")
    kind: str
    description: str
    parameters: list[ParameterOut]


class TemplatesOut(BaseModel):
    templates: list[TemplateOut]
    errors: list[str] = Field(description="one line per workflow file that could not be loaded")


class GenerationIn(BaseModel):
    """What ``generate image --template --influencer --prompt --negative --set … --count`` takes."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, description="a name from GET /generations/templates")
    prompt: str | None = Field(default=None, description="the template's `positive` parameter")
    negative: str | None = Field(default=None, description="the template's `negative` parameter")
    params: dict[str, Value] = Field(default_factory=dict,
                                     description="template parameters by name: seed, steps, cfg, "
                                                 "checkpoint, lora_strength, input_image (the id of "
                                                 "a picture in the gallery)…")
    influencer_id: uuid.UUID | None = None
    lora: str | None = Field(default=None, description="a LoRA of the library (id or file name, see "
                                                       "GET /trainings/checkpoints) or a name ComfyUI has")
    count: int = Field(default=1, ge=1, le=MAX_COUNT, description="images, one job each")


class GenerationJobs(BaseModel):
    jobs: list[JobOut]


class ImageOut(BaseModel):
    id: uuid.UUID
    job_id: uuid.UUID | None
    influencer_id: uuid.UUID | None
    created_at: datetime
    name: str
    width: int
    height: int
    rating: int
    favourite: bool
    seed: int | None
    lora: str
    template: str
    prompt: str
    file_url: str = Field(description="GET this (with the token) for the picture itself")
    identity: float | None = Field(default=None, description="her identity score, 0–1 (0.5 is the "
                                                             "same-person threshold); null when not scored")
    identity_note: str = Field(default="", description="why there is no score (no references, no face…)")
    recipe: dict[str, Any] = Field(description="how it was made: template, values, seed, models, "
                                               "timings (the full graph on GET /generations/gallery/{id})")


@router.get("/templates", response_model=TemplatesOut)
def list_templates(studio: StudioDep, who: Reader) -> TemplatesOut:
    from studio.engine.comfyui.user_workflows import all_templates
    loaded = all_templates(studio.paths)
    templates = [TemplateOut(name=t.name, title=t.title, base=t.base, kind=t.kind,
                             description=t.description,
                             parameters=[_parameter(p) for p in t.parameters.values()])
                 for t in loaded.templates.values()]
    return TemplatesOut(templates=templates,
                        errors=[clean_value(e, studio.paths.data_dir) for e in loaded.errors])


@router.post("", status_code=202, response_model=GenerationJobs, responses=NOT_FOUND)
def submit(body: GenerationIn, studio: StudioDep, who: Writer) -> GenerationJobs:
    """Queues one job per image; the workflow is checked against ComfyUI first (a missing node,
    model or LoRA is a 422 naming it, and nothing is queued)."""
    from studio.engine.comfyui.generation import GenerationRequest, submit_generation
    values = _pictures_by_id(studio, who.workspace_id, body.params)
    if body.prompt is not None:
        values["positive"] = body.prompt
    if body.negative is not None:
        values["negative"] = body.negative
    if body.lora:
        values["lora_name"] = _lora_name(studio, who.workspace_id, body.lora)
    request = GenerationRequest(influencer_id=body.influencer_id, template=body.template,
                                values=values, count=body.count)
    jobs = submit_generation(studio, who.workspace_id, request)
    return GenerationJobs(jobs=[job_view(j, studio.paths.data_dir) for j in jobs])


@router.get("/gallery", response_model=list[ImageOut])
def gallery(studio: StudioDep, who: Reader, influencer_id: uuid.UUID | None = None,
            job_id: uuid.UUID | None = None, lora: str | None = None, min_rating: int = 0,
            favourites_only: bool = False, since: datetime | None = None,
            min_identity: Annotated[float | None, Query(ge=0, le=1)] = None,
            sort: Literal["newest", "identity"] = "newest") -> list[ImageOut]:
    """Generated images, newest first (or most like her first), narrowed by the filters given."""
    from studio.engine.comfyui.gallery import gallery_row, list_generated
    if influencer_id is not None:
        get_influencer(studio, who.workspace_id, influencer_id)  # another workspace's: 404
    assets = list_generated(studio, who.workspace_id, influencer_id=influencer_id, job_id=job_id,
                            lora=lora, min_rating=min_rating, favourites_only=favourites_only,
                            since=since, min_identity=min_identity)
    if sort == "identity":  # as the gallery sorts: most like her first, unscored last (stable)
        scores = {a.id: gallery_row(a).identity for a in assets}
        assets = sorted(assets, key=lambda a: (scores[a.id] is None, -(scores[a.id] or 0.0)))
    return [image_view(studio, a, graph=False) for a in assets]


@router.get("/gallery/{asset_id}", response_model=ImageOut, responses=NOT_FOUND)
def show_image(asset_id: uuid.UUID, studio: StudioDep, who: Reader) -> ImageOut:
    from studio.engine.comfyui.gallery import get_image
    return image_view(studio, get_image(studio, who.workspace_id, asset_id), graph=True)


@router.get("/gallery/{asset_id}/file", response_class=FileResponse, responses=NOT_FOUND)
def image_file(asset_id: uuid.UUID, studio: StudioDep, who: Reader) -> FileResponse:
    """The picture itself, streamed, named by its file name alone."""
    from studio.engine.comfyui.gallery import get_image
    return asset_file(studio, get_image(studio, who.workspace_id, asset_id))


def asset_file(studio: Studio, asset: Asset) -> FileResponse:
    """An asset's file as a streamed download (videos/ uses it too); 404 when the file is gone."""
    path = studio.asset_path(asset.storage_key)
    if not path.is_file():
        raise NotFound(f"The file of {asset.kind} {asset.id} is missing from the asset store.")
    return download(path)


def download(path: Path) -> FileResponse:
    """``path`` streamed, named by its file name alone."""
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, filename=path.name)


def image_view(studio: Studio, asset: Asset, *, graph: bool) -> ImageOut:
    from studio.engine.comfyui.gallery import gallery_row, recipe
    row = gallery_row(asset)
    made = {k: v for k, v in recipe(asset).items() if graph or k != "graph"}
    return ImageOut(id=row.id, job_id=row.job_id, influencer_id=row.influencer_id,
                    created_at=row.created_at, name=row.name, width=row.width, height=row.height,
                    rating=row.rating, favourite=row.favourite, seed=row.seed, lora=row.lora,
                    template=row.template, prompt=row.prompt,
                    file_url=f"{router.prefix}/gallery/{row.id}/file",
                    identity=row.identity, identity_note=row.identity_note,
                    recipe=clean_value(made, studio.paths.data_dir))


def _pictures_by_id(studio: Studio, workspace_id: uuid.UUID, params: dict[str, Value]) -> dict[str, object]:
    """``params`` with each picture named by its id (an image of the gallery, a stored clip's
    frame…) as its asset key, which the engine takes as an input picture; an id that is not the
    workspace's is not found."""
    values: dict[str, object] = dict(params)
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        for name, value in params.items():
            if isinstance(value, str) and _is_uuid(value):
                values[name] = repo.get(Asset, value).storage_key
    return values


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _lora_name(studio: Studio, workspace_id: uuid.UUID, ref: str) -> str:
    """The file name ComfyUI knows a library LoRA by; any other name is ComfyUI's own (the
    check against ComfyUI says so when it has no such LoRA)."""
    from studio.engine.lookup import find_lora
    try:
        return find_lora(studio, workspace_id=workspace_id, ref=ref).storage_key.rsplit("/", 1)[-1]
    except NotFound:
        return ref.strip()


def _parameter(param: Parameter) -> ParameterOut:
    return ParameterOut(name=param.name, type=param.type, default=clean_value(param.default),
                        minimum=param.minimum, maximum=param.maximum, step=param.step,
                        title=param.title, description=param.description)
