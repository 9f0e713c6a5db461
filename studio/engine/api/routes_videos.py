"""/videos: the ``video presets|export`` verbs over HTTP, through the same engine calls
(studio.engine.media): the export presets, an export of clips or pictures of the studio (by asset
id) for a platform (202 with the job), and the finished videos with a download of each file.

An export made through the API stays in the studio (``videos/<workspace>/<job>/``); the caller
fetches it from ``file_url``: no folder of this machine is named in or out."""
from __future__ import annotations

import math
import uuid
from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.routes_generations import asset_file
from studio.engine.api.schemas import NOT_FOUND, JobOut, job_view
from studio.engine.core import Studio
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.errors import NotFound
from studio.engine.influencers import get_influencer

router = APIRouter(prefix="/videos", tags=["videos"])


class ExportPresetOut(BaseModel):
    name: str
    title: str
    platform: str
    width: int
    height: int
    aspect: str
    fps: float
    min_s: float
    max_s: float | None = Field(description="null: no upper limit")
    crf: int
    maxrate_kbps: int
    loudness_lufs: float
    description: str


class ExportIn(BaseModel):
    """What ``video export INPUT… --preset …`` takes, its inputs named by asset id (generated
    images, clips, earlier exports: anything in GET /generations/gallery or GET /videos)."""

    model_config = ConfigDict(extra="forbid")

    inputs: list[uuid.UUID] = Field(min_length=1, max_length=50, description="joined in this order")
    preset: str = Field(min_length=1, description="a name from GET /videos/presets")
    fit: Literal["crop", "blur"] = "crop"
    focus: tuple[float, float] = Field(default=(0.5, 0.5), description="what a crop keeps, as "
                                                                      "fractions of the frame")
    too_long: Literal["trim", "refuse"] = "trim"
    loudness: float | Literal["off"] | None = Field(
        default=None, description="LUFS target; null: the preset's; \"off\" keeps the sound")
    soundtrack: uuid.UUID | None = Field(default=None, description="an asset with sound to use instead")
    subtitles_srt: str | None = Field(default=None, max_length=200_000,
                                      description="subtitles to burn in, as the text of an .srt file")
    still_s: float = Field(default=5.0, description="how long a still image shows without a soundtrack")
    cover_at_s: float | None = Field(default=None, description="also make a JPEG cover at this time")
    draft: bool = Field(default=False, description="encode fast, at lower quality")
    influencer_id: uuid.UUID | None = None
    name: str = Field(default="", max_length=200, description="the file's name; default "
                                                             "<first input>-<preset>.mp4")


class VideoOut(BaseModel):
    id: uuid.UUID
    job_id: uuid.UUID | None
    influencer_id: uuid.UUID | None
    created_at: datetime
    name: str
    preset: str | None
    width: int
    height: int
    duration_s: float | None
    size_bytes: int | None
    file_url: str


@router.get("/presets", response_model=list[ExportPresetOut])
def list_presets(studio: StudioDep, who: Reader) -> list[ExportPresetOut]:
    """The platforms' frames, the built-in ones and the user's own."""
    from studio.engine.media.presets import load_presets, user_presets_dir
    return [ExportPresetOut(name=p.slug, title=p.title, platform=p.platform, width=p.width,
                            height=p.height, aspect=p.aspect_label, fps=p.fps,
                            min_s=p.min_duration_s,
                            max_s=None if math.isinf(p.max_duration_s) else p.max_duration_s,
                            crf=p.crf, maxrate_kbps=p.maxrate_kbps, loudness_lufs=p.loudness_lufs,
                            description=p.description)
            for p in load_presets(user_presets_dir(studio.paths.data_dir)).values()]


@router.post("/exports", status_code=202, response_model=JobOut, responses=NOT_FOUND)
def export(body: ExportIn, studio: StudioDep, who: Writer) -> JobOut:
    """Checks the inputs, preset, cover time and subtitles, then queues the export; the video
    appears in GET /videos when the job completes."""
    from studio.engine.media.finishing import Finish
    from studio.engine.media.jobs import ExportRequest, submit_export
    from studio.engine.media.subtitles import parse_srt
    influencer = get_influencer(studio, who.workspace_id, body.influencer_id) if body.influencer_id else None
    finish = Finish(fit=body.fit, focus=body.focus, over_length=body.too_long,
                    loudness=_loudness(studio, body), still_s=body.still_s,
                    soundtrack=_path(studio, who.workspace_id, body.soundtrack) if body.soundtrack else None,
                    speed="veryfast" if body.draft else None)
    request = ExportRequest(
        inputs=[_path(studio, who.workspace_id, asset_id) for asset_id in body.inputs],
        preset=body.preset, finish=finish, cover_at_s=body.cover_at_s, name=body.name,
        cues=parse_srt(body.subtitles_srt) if body.subtitles_srt is not None else None,
        influencer_id=influencer.id if influencer else None)
    return job_view(submit_export(studio, who.workspace_id, request), studio.paths.data_dir)


@router.get("", response_model=list[VideoOut])
def list_videos(studio: StudioDep, who: Reader, influencer_id: uuid.UUID | None = None,
                job_id: uuid.UUID | None = None) -> list[VideoOut]:
    """Finished videos (exports and generated clips), newest first."""
    if influencer_id is not None:
        get_influencer(studio, who.workspace_id, influencer_id)  # another workspace's: 404
    with studio.db.session() as session:
        filters: dict[str, object] = {"kind": "video"}
        if influencer_id is not None:
            filters["influencer_id"] = influencer_id
        if job_id is not None:
            filters["job_id"] = job_id
        assets = Repository(session, who.workspace_id).list(Asset, order_by=Asset.created_at.desc(),
                                                            **filters)
    return [_video(a) for a in assets]


@router.get("/{asset_id}", response_model=VideoOut, responses=NOT_FOUND)
def show_video(asset_id: uuid.UUID, studio: StudioDep, who: Reader) -> VideoOut:
    return _video(_video_asset(studio, who.workspace_id, asset_id))


@router.get("/{asset_id}/file", response_class=FileResponse, responses=NOT_FOUND)
def video_file(asset_id: uuid.UUID, studio: StudioDep, who: Reader) -> FileResponse:
    """The video itself, streamed, named by its file name alone."""
    return asset_file(studio, _video_asset(studio, who.workspace_id, asset_id))


def _video_asset(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    with studio.db.session() as session:
        asset = Repository(session, workspace_id).get(Asset, asset_id)
    if asset.kind != "video":
        raise NotFound(f"No video {asset_id} in this workspace.")
    return asset


def _path(studio: Studio, workspace_id: uuid.UUID, asset_id: uuid.UUID) -> Path:
    """Where the workspace's asset is stored here (the engine takes it as its own key again)."""
    with studio.db.session() as session:
        asset = Repository(session, workspace_id).get(Asset, asset_id)
    return studio.asset_path(asset.storage_key)


def _loudness(studio: Studio, body: ExportIn) -> float | None:
    if body.loudness == "off":
        return None
    if body.loudness is not None:
        return body.loudness
    from studio.engine.media.presets import find_preset, user_presets_dir
    return find_preset(body.preset, user_presets_dir(studio.paths.data_dir)).loudness_lufs


def _video(asset: Asset) -> VideoOut:
    meta = asset.meta or {}
    duration = meta.get("duration_s")
    return VideoOut(id=asset.id, job_id=asset.job_id, influencer_id=asset.influencer_id,
                    created_at=asset.created_at, name=asset.storage_key.rsplit("/", 1)[-1],
                    preset=meta.get("preset"), width=int(meta.get("width") or 0),
                    height=int(meta.get("height") or 0),
                    duration_s=float(duration) if isinstance(duration, int | float) else None,
                    size_bytes=asset.size_bytes, file_url=f"{router.prefix}/{asset.id}/file")
