"""The "train-lora" job: queue, run, resume, reorder.

``submit_training`` checks the plan (``plan.py``), writes the training's folder (the
dataset_config.toml, the sample prompts and the command it will run) and queues the job on the
training queue. The handler holds the GPU lock (the runner takes it for ``uses_gpu`` types),
asks a ComfyUI on this machine to free its GPU memory, exports the dataset into the folder,
runs sd-scripts (``watch.py``) and turns each saved checkpoint into a LoraModel as it appears.
A failed or canceled training resumes from its last saved state when it runs again.
"""
from __future__ import annotations

import json
import logging
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.engine.comfyui.client import ComfyClient
from studio.engine.comfyui.supervisor import comfy_url
from studio.engine.core import Studio
from studio.engine.db.models import Dataset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.fsutil import atomic_write_text
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.payloads import LOCAL_ONLY, payload_of
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.status import ACTIVE, JobStatus
from studio.engine.storage.local import LocalStore
from studio.engine.training.checks import base_model_problem
from studio.engine.training.command import (
    DatasetSource,
    Launch,
    TrainingFiles,
    build_argv,
    dataset_config_text,
    resolve_launch,
    sample_prompts_text,
)
from studio.engine.training.config import MUSUBI_FAMILIES, TrainingConfig
from studio.engine.training.family_checks import model_files_problem
from studio.engine.training.identity import start_scoring
from studio.engine.training.plan import TrainingPlan, TrainingRequest, plan_training
from studio.engine.training.results import TrainingRef, register_checkpoint
from studio.engine.training.state import SavedState, latest_state
from studio.engine.training.watch import Report, watch_training

JOB_TYPE = "train-lora"
QUEUE = "training"
log = logging.getLogger("studio.training")


@dataclass(frozen=True, slots=True)
class TrainingPayload:
    config: dict[str, Any]  # TrainingConfig.to_dict(): sd-scripts' own option names
    influencer_id: uuid.UUID
    dataset_id: uuid.UUID
    output_name: str
    # The training's folder under the submitting studio's data folder and the sd-scripts it
    # found; a worker on another machine uses its own (see _on_this_machine).
    root: Path = field(metadata=LOCAL_ONLY)
    sd_scripts: Path = field(metadata=LOCAL_ONLY)
    python: str
    accelerate: str | None = None
    preset: str = ""
    hand_off: bool = False
    total_steps: int = 0
    epochs: int = 0
    images: int = 0
    estimate_s: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrainingResult:
    output_name: str
    checkpoints: tuple[str, ...]  # file names of the saved LoRAs (rows in the LoRA library)
    samples: tuple[str, ...]
    steps: int
    seconds_per_step: float | None
    resumed_from: int | None
    dataset_version: str
    comfyui_lora: str | None  # where the final LoRA was placed for ComfyUI, if it was


# Submitting ------------------------------------------------------------------------------------

def submit_training(studio: Studio, workspace_id: uuid.UUID, request: TrainingRequest) -> Job:
    """Checks everything that can be checked before launch, writes the folder, queues the job."""
    plan = plan_training(studio, workspace_id, request)
    plan.findings.raise_if_any()
    write_plan_files(plan)
    payload = TrainingPayload(
        config=plan.config.to_dict(), preset=request.preset, influencer_id=request.influencer_id,
        dataset_id=request.dataset_id, output_name=plan.output_name, root=plan.files.root,
        sd_scripts=plan.launch.folder, python=plan.launch.python,
        accelerate=plan.launch.accelerate, hand_off=request.hand_off,
        total_steps=plan.steps.total_steps, epochs=plan.steps.epochs, images=plan.source.images,
        estimate_s=round(plan.estimate_s), warnings=tuple(plan.findings.warnings))
    title = f"Train {plan.influencer_name} · {plan.dataset_name} ({request.preset}) → {plan.output_name}"
    return studio.jobs.submit(workspace_id, JOB_TYPE, payload, title=title)


def write_plan_files(plan: TrainingPlan) -> None:
    files = plan.files
    files.root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(files.dataset_config, plan.dataset_config)
    atomic_write_text(files.sample_prompts, plan.sample_prompts)
    atomic_write_text(files.command_file, json.dumps({"argv": plan.argv, "cwd": str(plan.launch.folder)},
                                                     indent=2) + "\n")


def resume_training(studio: Studio, workspace_id: uuid.UUID, job_id: uuid.UUID | str) -> Job:
    """Queues a failed or canceled training again; it goes on from its last saved state."""
    job = studio.jobs.get(workspace_id, job_id)
    if job.type != JOB_TYPE:
        raise InvalidInput(f"Job {job.id} is not a training.")
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELED):
        raise InvalidInput(f"Only a failed or canceled training can be resumed; this one is {job.status}.")
    payload = payload_of(job, TrainingPayload)
    state = latest_state(TrainingFiles(payload.root).output_dir, payload.output_name)
    job = studio.jobs.retry(workspace_id, job.id)
    message = (f"Will resume from step {state.step}." if state else
               "No saved state yet (--save_state saves one with each checkpoint); starts over.")
    with studio.db.session() as session:
        row = session.get(Job, job.id)
        if row is not None:
            row.message = message
    return studio.jobs.get(workspace_id, job.id)


def reorder_trainings(studio: Studio, workspace_id: uuid.UUID, job_ids: list[uuid.UUID]) -> None:
    """Waiting trainings run in this order: each gets a priority and is queued again (the old
    queue entry is revoked; a job's row names its new entry, so the old one claims nothing). The
    new entry is queued once the row names it, or a worker taking it at once would skip it."""
    count = len(job_ids)
    for position, job_id in enumerate(job_ids):
        with studio.db.session() as session:
            job = Repository(session, workspace_id).get(Job, job_id)
            if job.type != JOB_TYPE or job.status != JobStatus.PENDING:
                continue
            if job.task_id:
                studio.queues.revoke(job.queue, job.task_id)
            job.priority = count - position
            task = studio.queues.task(job.queue, str(job.id), priority=job.priority)
            job.task_id, queue = str(task.id), job.queue
        studio.queues.put(queue, task)


def queued_trainings(studio: Studio, workspace_id: uuid.UUID) -> list[Job]:
    """Active trainings in the order they will run: the running one, then by priority and age."""
    jobs = [j for j in studio.jobs.list(workspace_id, limit=500) if j.type == JOB_TYPE and j.status in ACTIVE]
    return sorted(jobs, key=lambda j: (j.status != JobStatus.PROCESSING, -j.priority, j.created_at))


# Running ---------------------------------------------------------------------------------------

@job_type(JOB_TYPE, queue=QUEUE, uses_gpu=True, payload=TrainingPayload, result=TrainingResult)
def run_training(ctx: JobContext, payload: TrainingPayload) -> TrainingResult:
    config = TrainingConfig.from_dict(payload.config)
    if config.family in MUSUBI_FAMILIES:  # musubi-tuner: caching stages, then its trainer
        from studio.engine.training.musubi_job import run_musubi
        result: TrainingResult = run_musubi(ctx, payload, config)
        return result
    files, launch = _on_this_machine(ctx, payload, config)
    output_name = payload.output_name
    state = latest_state(files.output_dir, output_name)
    version = _prepare_dataset(ctx, payload, files, config, resumed=state is not None)
    _free_comfyui_memory(ctx)
    ref = TrainingRef(workspace_id=ctx.workspace_id, job_id=ctx.job_id,
                      influencer_id=payload.influencer_id, output_name=output_name,
                      base_model=Path(config.base_model).name, config=config.to_dict(),
                      dataset_id=str(payload.dataset_id), dataset_version=version,
                      preset=payload.preset)
    store = LocalStore(ctx.paths.assets_dir)
    argv = build_argv(config, launch, files, output_name, resume=state.path if state else None)
    if state:
        ctx.progress(state.step / max(1, payload.total_steps),
                     stage=f"Resuming from step {state.step}", message=state.path.name)
    else:
        ctx.progress(0.0, stage="Starting sd-scripts", message="loading the model")
    resume_step = state.step if state else 0
    scorer = start_scoring(ctx.db, workspace_id=ctx.workspace_id, job_id=ctx.job_id,
                           influencer_id=payload.influencer_id, root=files.root,
                           samples_dir=files.samples_dir, resume_step=resume_step)
    outcome = watch_training(
        argv, files, cwd=launch.folder, output_name=output_name, total_steps=payload.total_steps,
        resume_step=resume_step, report=_reporter(ctx),
        on_checkpoint=lambda path: register_checkpoint(ctx.db, store, ref, path) is not None,
        check_canceled=ctx.check_canceled, scorer=scorer)
    final = [c for c in outcome.checkpoints if c.name == f"{output_name}.safetensors"]
    placed = _hand_off(ctx, final[0].name) if final and payload.hand_off else None
    return TrainingResult(
        output_name=output_name, checkpoints=tuple(c.name for c in outcome.checkpoints),
        samples=tuple(s.name for s in outcome.samples), steps=outcome.last_step,
        seconds_per_step=outcome.seconds_per_step, resumed_from=state.step if state else None,
        dataset_version=version, comfyui_lora=str(placed) if placed else None)


def _on_this_machine(ctx: JobContext, payload: TrainingPayload,
                     config: TrainingConfig) -> tuple[TrainingFiles, Launch]:
    """The training's folder and sd-scripts as queued, or, for a training queued on another
    machine (team mode: a training box), this worker's own data folder and sd-scripts setting.
    The dataset is exported here again either way; the base model must be at the same path."""
    root = payload.root
    if root.is_relative_to(ctx.paths.data_dir):
        files = TrainingFiles(root)
        launch = Launch(folder=payload.sd_scripts, python=payload.python,
                        accelerate=payload.accelerate)
    else:
        files = TrainingFiles(ctx.paths.data_dir / "training" / root.parent.name / root.name)
        folder = ctx.settings.sdscripts.folder.strip()
        if not folder:
            raise JobFailed("This training was queued on another machine: set sdscripts.folder on "
                            f"this worker ({socket.gethostname()}) to its kohya sd-scripts folder.")
        launch = resolve_launch(Path(folder), ctx.settings.sdscripts.python)
        files.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(files.sample_prompts,
                          sample_prompts_text(config, _trigger(ctx, payload.influencer_id)))
    here = f" on this machine ({socket.gethostname()}); put it at that path here, or train elsewhere"
    problem = base_model_problem(config.base_model, missing_here=here) or model_files_problem(
        config, missing_here=here)
    if problem is not None:
        raise JobFailed(problem)
    return files, launch


def _trigger(ctx: JobContext, influencer_id: uuid.UUID) -> str:
    from studio.engine.db.models import Influencer
    with ctx.db.session() as session:
        influencer = session.get(Influencer, influencer_id)
        return influencer.trigger_word if influencer is not None else ""


def _prepare_dataset(ctx: JobContext, payload: TrainingPayload, files: TrainingFiles,
                     config: TrainingConfig, *, resumed: bool) -> str:
    """Exports the dataset into the training's folder (kept as it is when resuming, so the state
    matches its data) and writes dataset_config.toml for the exported folder."""
    data, _fresh = export_for_training(ctx, payload.dataset_id, files, config, keep=resumed)
    images = len(data.get("images") or [])
    if images == 0:
        raise JobFailed("The dataset has no images to train on any more.")
    image_dir = files.dataset_dir / Path(str(data["images"][0]["file"])).parent
    source = DatasetSource(image_dir=image_dir, images=images, repeats=int(data.get("repeats") or 1),
                           class_tokens=" ".join(t for t in (data.get("trigger"), data.get("class_token")) if t),
                           trigger=str(data.get("trigger") or ""))
    atomic_write_text(files.dataset_config, dataset_config_text(config, source))
    return str(data.get("dataset_version") or "")


def export_for_training(ctx: JobContext, dataset_id: uuid.UUID, files: TrainingFiles,
                        config: TrainingConfig, *, keep: bool) -> tuple[dict[str, Any], bool]:
    """The training's exported dataset (its manifest), captions in the family's style; the
    export already in the folder when ``keep`` (a resume). True when exported now."""
    from studio.engine.datasets.caption_style import FAMILY_STYLES
    from studio.engine.datasets.export import MANIFEST, export_kohya
    manifest = files.dataset_dir / MANIFEST
    fresh = not (keep and manifest.is_file())
    if fresh:
        ctx.progress(0.0, stage="Exporting the dataset")
        with ctx.db.session() as session:
            dataset = Repository(session, ctx.workspace_id).get(Dataset, dataset_id)
        try:
            export_kohya(ctx, dataset, files.dataset_dir, resolution=config.resolution,
                         caption_style=FAMILY_STYLES.get(config.family))
        except StudioError as exc:
            raise JobFailed(f"The dataset could not be exported for training: {exc}") from exc
    data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    return data, fresh


def _free_comfyui_memory(ctx: JobContext) -> None:
    """A ComfyUI on this machine keeps models in GPU memory between prompts; ask it to let go.
    One elsewhere (or none running) is no concern of this GPU."""
    from studio.engine.comfyui.generation import is_local
    url = comfy_url(ctx.settings)
    if not is_local(url):
        return
    try:
        with ComfyClient(url, timeout=5) as client:
            client.free(unload_models=True, free_memory=True)
        log.info("asked ComfyUI at %s to free GPU memory before training", url)
    except StudioError:
        pass  # not running: nothing holds the memory


def _reporter(ctx: JobContext) -> Report:
    def report(fraction: float, stage: str, message: str) -> None:
        ctx.progress(fraction, stage=stage, message=message)
    return report


def _hand_off(ctx: JobContext, file_name: str) -> Path | None:
    from studio.engine.comfyui.loras import hand_off
    try:
        return hand_off(ctx, ctx.workspace_id, file_name)
    except InvalidInput as exc:
        log.warning("LoRA hand-off to ComfyUI skipped: %s", exc)
        return None


__all__ = [
    "JOB_TYPE",
    "SavedState",
    "TrainingPayload",
    "TrainingRequest",
    "TrainingResult",
    "queued_trainings",
    "reorder_trainings",
    "resume_training",
    "run_training",
    "submit_training",
]
