"""/datasets: the ``dataset create|list|images|import|analyze|export`` verbs over HTTP, through
the same engine calls. Import and analysis are jobs: they answer 202 with the job; follow it with
``GET /jobs/{id}/wait``. ``{dataset}`` is an id (or a name unique in the workspace)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.sanitize import clean_text
from studio.engine.api.schemas import NOT_FOUND, JobOut, job_view
from studio.engine.api.uploads import store_uploads
from studio.engine.core import Studio
from studio.engine.datasets import jobs as dataset_jobs
from studio.engine.datasets import service
from studio.engine.datasets.export import export_kohya, folder_name
from studio.engine.datasets.filters import ImageFilter, filtered, image_rows, tag_splitter
from studio.engine.datasets.sorts import SORTS
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.influencers import get_influencer

router = APIRouter(prefix="/datasets", tags=["datasets"])
ACCEPTED = {202: {"model": JobOut, "description": "The job was queued"}, **NOT_FOUND}


class DatasetOut(BaseModel):
    id: uuid.UUID
    name: str
    influencer_id: uuid.UUID
    influencer: str
    images: int
    class_token: str
    repeats: int
    tag_separator: str
    folder: str = Field(description="the kohya folder name, e.g. 10_mia woman")


class DatasetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    influencer: str = Field(description="the influencer's id or name")
    name: str = Field(min_length=1, max_length=200)
    class_token: str = ""
    repeats: int = Field(default=10, ge=1)
    tag_separator: str = ","


class DatasetImageOut(BaseModel):
    id: uuid.UUID
    name: str
    width: int
    height: int
    caption: str
    excluded: bool
    near_dup_group: int | None
    sharpness: float | None
    blurry: bool
    dark: bool
    bright: bool
    faces: int


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(min_length=1, description="files, folders, .zip archives on this machine")


class AnalyseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = Field(default=False, description="analyse images analysed before too")


class DatasetExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out: str = Field(min_length=1, description="folder on this machine to write the kohya set into")
    include_duplicates: bool = False
    include_excluded: bool = False
    caption_style: Literal["tags", "sentences"] | None = Field(
        default=None, description="tags (SD 1.5/SDXL) or sentences (FLUX.1, SD 3.5, Qwen-Image, Wan); "
                                  "none: the captions as they are")


class DatasetExportOut(BaseModel):
    images: int
    captions: int
    skipped_excluded: int
    skipped_duplicates: int
    image_dir: str
    config_file: str
    caption_report: str = ""


class ImageQuery(BaseModel):
    """The Datasets page's filters (``dataset images``' options)."""

    text: str = ""
    tag: str = ""
    caption: Literal["any", "with", "without"] = "any"
    faces: Literal["any", "none", "one", "many"] = "any"
    excluded: Literal["any", "only", "hide"] = "any"
    exposure: Literal["any", "dark", "bright"] = "any"
    blurry: bool = False
    duplicates: bool = False
    below: int = Field(default=0, ge=0)
    sort: str = Field(default="date", json_schema_extra={"enum": list(SORTS)})


@router.get("", response_model=list[DatasetOut], responses=NOT_FOUND)
def list_datasets(studio: StudioDep, who: Reader, influencer: str | None = None) -> list[DatasetOut]:
    return [dataset_view(studio, d) for d in service.list_datasets(studio, who.workspace_id, influencer)]


@router.post("", status_code=201, response_model=DatasetOut, responses=NOT_FOUND)
def create_dataset(body: DatasetIn, studio: StudioDep, who: Writer) -> DatasetOut:
    dataset = service.create_dataset(studio, who.workspace_id, body.influencer, body.name,
                                     class_token=body.class_token, repeats=body.repeats,
                                     tag_separator=body.tag_separator)
    return dataset_view(studio, dataset)


@router.get("/{dataset}", response_model=DatasetOut, responses=NOT_FOUND)
def show_dataset(dataset: str, studio: StudioDep, who: Reader) -> DatasetOut:
    return dataset_view(studio, service.get_dataset(studio, who.workspace_id, dataset))


@router.get("/{dataset}/images", response_model=list[DatasetImageOut], responses=NOT_FOUND)
def list_images(dataset: str, query: Annotated[ImageQuery, Depends()], studio: StudioDep,
                who: Reader) -> list[DatasetImageOut]:
    found = service.get_dataset(studio, who.workspace_id, dataset)
    spec = ImageFilter(text=query.text, tag=query.tag, caption=query.caption,
                       near_duplicates=query.duplicates, blurry=query.blurry, exposure=query.exposure,
                       faces=query.faces, excluded=query.excluded, below_target=query.below,
                       sort=query.sort, tag_split=tag_splitter(found.tag_separator))
    rows = filtered(image_rows(studio, workspace_id=found.workspace_id, dataset_id=found.id), spec)
    return [DatasetImageOut(id=r.id, name=r.name, width=r.width, height=r.height, caption=r.caption,
                     excluded=r.excluded, near_dup_group=r.near_dup_group, sharpness=r.sharpness,
                     blurry=r.blurry, dark=r.dark, bright=r.bright, faces=r.face_count) for r in rows]


@router.post("/{dataset}/import", status_code=202, response_model=JobOut, responses=ACCEPTED)
def import_paths(dataset: str, body: ImportIn, studio: StudioDep, who: Writer) -> JobOut:
    """Imports files, folders and .zip archives that are on the machine serving the API."""
    found = service.get_dataset(studio, who.workspace_id, dataset)
    return job_view(dataset_jobs.submit_import(studio, found, body.paths), studio.paths.data_dir)


@router.post("/{dataset}/upload", status_code=202, response_model=JobOut, responses=ACCEPTED)
def upload_files(dataset: str, files: Annotated[list[UploadFile], File(description="pictures or .zip")],
                 studio: StudioDep, who: Writer) -> JobOut:
    """Imports pictures and .zip archives sent in the request (multipart, part name 'files')."""
    found = service.get_dataset(studio, who.workspace_id, dataset)
    folder = store_uploads(studio.paths.cache_dir, files)
    return job_view(dataset_jobs.submit_import(studio, found, [folder]), studio.paths.data_dir)


@router.post("/{dataset}/analyse", status_code=202, response_model=JobOut, responses=ACCEPTED)
def analyse(dataset: str, studio: StudioDep, who: Writer, body: AnalyseIn | None = None) -> JobOut:
    """Hashes, near-duplicates, quality, faces and crops (``dataset analyze``)."""
    found = service.get_dataset(studio, who.workspace_id, dataset)
    force = body.force if body is not None else False
    return job_view(dataset_jobs.submit_analysis(studio, found, force=force), studio.paths.data_dir)


@router.post("/{dataset}/export", response_model=DatasetExportOut, responses=NOT_FOUND)
def export(dataset: str, body: DatasetExportIn, studio: StudioDep, who: Writer) -> DatasetExportOut:
    """Writes a kohya sd-scripts training folder on the machine serving the API."""
    found = service.get_dataset(studio, who.workspace_id, dataset)
    done = export_kohya(studio, found, Path(body.out).expanduser(),
                        include_near_duplicates=body.include_duplicates,
                        include_excluded=body.include_excluded, caption_style=body.caption_style)
    data = studio.paths.data_dir
    return DatasetExportOut(images=done.images, captions=done.captions, skipped_excluded=done.skipped_excluded,
                     skipped_duplicates=done.skipped_duplicates,
                     image_dir=clean_text(str(done.image_dir), data),
                     config_file=clean_text(str(done.config_file), data), caption_report=done.caption_report)


def dataset_view(studio: Studio, dataset: Dataset) -> DatasetOut:
    influencer = get_influencer(studio, dataset.workspace_id, dataset.influencer_id)
    with studio.db.session() as session:
        count = Repository(session, dataset.workspace_id).count(DatasetImage, dataset_id=dataset.id)
    return DatasetOut(id=dataset.id, name=dataset.name, influencer_id=influencer.id,
                      influencer=influencer.name, images=count, class_token=dataset.class_token,
                      repeats=dataset.repeats, tag_separator=dataset.tag_separator,
                      folder=folder_name(dataset.repeats, influencer.trigger_word,
                                         dataset.class_token, dataset.name))
