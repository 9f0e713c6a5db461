"""/trainings: the ``train`` verbs over HTTP, through the same engine calls (studio.engine.training):
presets, the list (queue first), start (202 with the job), status with the loss so far, cancel,
resume, and the checkpoints a training saved (LoRAs, without where they sit on this machine).

The sd-scripts checkout is the setting ``sdscripts.folder``: a caller names presets and options,
never a folder of this machine."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from studio.engine.api.deps import Reader, StudioDep, Writer
from studio.engine.api.sanitize import clean_text, clean_value
from studio.engine.api.schemas import NOT_FOUND, JobOut, job_view
from studio.engine.core import Studio
from studio.engine.db.models import Job, LoraModel
from studio.engine.errors import NotFound
from studio.engine.influencers import get_influencer
from studio.engine.jobs.payloads import payload_of
from studio.engine.training.command import TrainingFiles

router = APIRouter(prefix="/trainings", tags=["trainings"])
Override = str | int | float | bool | list[str] | None


class PresetOut(BaseModel):
    slug: str
    title: str
    description: str
    family: str
    settings: dict[str, Any] = Field(description="sd-scripts' own option names and the preset's values")


class TrainingIn(BaseModel):
    """What ``train --influencer --dataset --preset --set KEY=VALUE … --name --hand-off`` takes."""

    model_config = ConfigDict(extra="forbid")

    influencer_id: uuid.UUID
    dataset_id: uuid.UUID
    preset: str = Field(min_length=1, description="a slug from GET /trainings/presets")
    overrides: dict[str, Override] = Field(
        default_factory=dict, description="sd-scripts options by their own names (learning_rate, "
                                          "network_dim, max_train_steps, …) and base_model")
    name: str = Field(default="", max_length=80, description="the LoRA's file name; default "
                                                             "<trigger>-<dataset>-vN")
    hand_off: bool = Field(default=False, description="place the final LoRA in ComfyUI's loras folder")


class LossSummary(BaseModel):
    points: int = Field(description="finished steps with a loss on record")
    last_step: int | None
    total_steps: int | None
    last_loss: float | None
    min_loss: float | None
    recent: list[float] = Field(description="the losses of the last (up to 20) steps")


class TrainingOut(BaseModel):
    job: JobOut
    loss: LossSummary
    checkpoints: int


class CheckpointOut(BaseModel):
    id: uuid.UUID
    name: str
    file_name: str
    kind: str | None = Field(description="step, epoch or final")
    step: int | None
    epoch: int | None
    final: bool
    active: bool
    size_bytes: int | None
    sha256: str | None
    dataset_version: str | None
    training_job_id: uuid.UUID | None
    influencer_id: uuid.UUID | None
    base_model: str
    family: str | None
    ss_metadata: dict[str, Any]


@router.get("/presets", response_model=list[PresetOut])
def list_presets(who: Reader) -> list[PresetOut]:
    from studio.engine.training.config import load_presets
    return [PresetOut(slug=p.slug, title=p.title, description=p.description, family=p.config.family,
                      settings=clean_value(p.config.to_dict())) for p in load_presets().values()]


@router.get("", response_model=list[JobOut])
def list_trainings(studio: StudioDep, who: Reader) -> list[JobOut]:
    """Waiting and running trainings in the order they run, then the others, newest first."""
    from studio.engine.training.jobs import JOB_TYPE, queued_trainings
    queued = queued_trainings(studio, who.workspace_id)
    waiting = {j.id for j in queued}
    others = [j for j in studio.jobs.list(who.workspace_id, limit=200)
              if j.type == JOB_TYPE and j.id not in waiting]
    return [job_view(j, studio.paths.data_dir) for j in [*queued, *others]]


@router.post("", status_code=202, response_model=JobOut, responses=NOT_FOUND)
def start_training(body: TrainingIn, studio: StudioDep, who: Writer) -> JobOut:
    """Checks the plan (sd-scripts' own parser included) and queues the training; 422 names
    what is wrong before anything runs."""
    from studio.engine.training.jobs import submit_training
    from studio.engine.training.plan import TrainingRequest
    request = TrainingRequest(influencer_id=body.influencer_id, dataset_id=body.dataset_id,
                              preset=body.preset, overrides=_overrides(body.overrides),
                              name=body.name, hand_off=body.hand_off)
    return job_view(submit_training(studio, who.workspace_id, request), studio.paths.data_dir)


@router.get("/checkpoints", response_model=list[CheckpointOut])
def list_checkpoints(studio: StudioDep, who: Reader,
                     influencer_id: uuid.UUID | None = None) -> list[CheckpointOut]:
    """Every saved LoRA of the workspace (or of one influencer), in training order."""
    from studio.engine.training.results import checkpoints_of
    if influencer_id is not None:
        get_influencer(studio, who.workspace_id, influencer_id)  # another workspace's: 404
    rows = checkpoints_of(studio.db, who.workspace_id, influencer_id=influencer_id)
    return [_checkpoint(row) for row in rows]


@router.get("/{job_id}", response_model=TrainingOut, responses=NOT_FOUND)
def show_training(job_id: uuid.UUID, studio: StudioDep, who: Reader) -> TrainingOut:
    from studio.engine.training.results import checkpoints_of
    job = _training(studio, who.workspace_id, job_id)
    saved = checkpoints_of(studio.db, who.workspace_id, job_id=job.id)
    return TrainingOut(job=job_view(job, studio.paths.data_dir), loss=_loss(job), checkpoints=len(saved))


@router.post("/{job_id}/cancel", response_model=JobOut, responses=NOT_FOUND)
def cancel_training(job_id: uuid.UUID, studio: StudioDep, who: Writer) -> JobOut:
    """A waiting training is canceled at once; a running one is stopped by its worker soon
    (its saved checkpoints stay, and a resume goes on from its last state)."""
    job = _training(studio, who.workspace_id, job_id)
    return job_view(studio.jobs.cancel(who.workspace_id, job.id), studio.paths.data_dir)


@router.post("/{job_id}/resume", status_code=202, response_model=JobOut, responses=NOT_FOUND)
def resume_training(job_id: uuid.UUID, studio: StudioDep, who: Writer) -> JobOut:
    """A failed or canceled training queued again, from its last saved state."""
    from studio.engine.training.jobs import resume_training as resume
    job = _training(studio, who.workspace_id, job_id)
    return job_view(resume(studio, who.workspace_id, job.id), studio.paths.data_dir)


@router.get("/{job_id}/checkpoints", response_model=list[CheckpointOut], responses=NOT_FOUND)
def training_checkpoints(job_id: uuid.UUID, studio: StudioDep, who: Reader) -> list[CheckpointOut]:
    from studio.engine.training.results import checkpoints_of
    job = _training(studio, who.workspace_id, job_id)
    return [_checkpoint(row) for row in checkpoints_of(studio.db, who.workspace_id, job_id=job.id)]


def _training(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """The workspace's training job; another workspace's job, or another kind of job, is not
    found (one message for both)."""
    from studio.engine.training.jobs import JOB_TYPE
    job = studio.jobs.get(workspace_id, job_id)
    if job.type != JOB_TYPE:
        raise NotFound(f"No training {job_id} in this workspace.")
    return job


def _overrides(given: dict[str, Override]) -> dict[str, object]:
    """As ``--set`` takes them: sd-scripts' names, dashes or not; scalars as the text the command
    line would give, so the engine converts them the one way it does for ``--set``."""
    overrides: dict[str, object] = {}
    for raw_key, value in given.items():
        key = raw_key.strip().lstrip("-").replace("-", "_")
        if key == "pretrained_model_name_or_path":
            key = "base_model"  # sd-scripts' own name works too
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int | float):
            value = str(value)
        overrides[key] = value
    return overrides


def _loss(job: Job) -> LossSummary:
    """The loss points the training wrote so far (metrics.jsonl: one line per finished step)."""
    from studio.engine.training.jobs import TrainingPayload
    payload = payload_of(job, TrainingPayload)
    points = _points(TrainingFiles(Path(payload.root)).metrics_file)
    losses = [float(p["loss"]) for p in points if isinstance(p.get("loss"), int | float)]
    last = points[-1] if points else {}
    return LossSummary(points=len(losses), last_step=_int(last.get("step")),
                       total_steps=_int(last.get("total")) or payload.total_steps or None,
                       last_loss=losses[-1] if losses else None,
                       min_loss=min(losses) if losses else None, recent=losses[-20:])


def _points(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []  # not started yet, or written on another machine (team mode)
    points = []
    for line in lines:
        try:
            point = json.loads(line)
        except ValueError:
            continue  # a line being written right now
        if isinstance(point, dict):
            points.append(point)
    return points


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _checkpoint(row: LoraModel) -> CheckpointOut:
    meta = row.meta or {}
    return CheckpointOut(
        id=row.id, name=row.name, file_name=row.storage_key.rsplit("/", 1)[-1], kind=meta.get("kind"),
        step=meta.get("step"), epoch=meta.get("epoch"), final=bool(meta.get("final")),
        active=bool(meta.get("active")), size_bytes=meta.get("size_bytes"), sha256=meta.get("sha256"),
        dataset_version=meta.get("dataset_version"), training_job_id=row.training_job_id,
        influencer_id=row.influencer_id, base_model=clean_text(row.base_model), family=meta.get("family"),
        ss_metadata=clean_value(meta.get("ss_metadata") or {}))
