"""The ``run-pipeline`` job: drives one plan item's steps, each a job on its own queue.

It waits for each step's job (checking for a cancel meanwhile) and writes what finished into
``PlanItem.pipeline`` before going on, so a retry after a failure, or a new run after the worker
died, starts at the first unfinished step and re-attaches to a step job that is still running.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from studio.engine.comfyui.generation import ImageResult
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job, PlanItem
from studio.engine.db.repositories import Repository
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled, JobFailed
from studio.engine.jobs.payloads import result_of
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.status import JobStatus
from studio.engine.pipelines.identity_gate import Gate, best, cannot_judge, gate_of, gave_up, judge, passes, refusal
from studio.engine.pipelines.publish import publish_item
from studio.engine.pipelines.service import JOB_TYPE, QUEUE, PipelinePayload, PipelineResult, preset_for, steps_of
from studio.engine.storage.local import LocalStore
from studio.engine.webhooks.outbox import record_plan_item_ready

POLL_S = 0.5
Progress = Callable[[float], None]  # a step's own progress, 0 to 1


@job_type(JOB_TYPE, queue=QUEUE, payload=PipelinePayload, result=PipelineResult)
def run_pipeline(ctx: JobContext, payload: PipelinePayload) -> PipelineResult:
    item_id = payload.item_id
    studio = Studio(ctx.paths, ctx.settings, explicit_profile=ctx.paths.config_dir == ctx.paths.data_dir)
    try:
        _wait_until(ctx, payload.not_before)
        try:
            folder = _run(ctx, studio, item_id)
        except JobCanceled:
            _set_item(ctx, item_id, status="approved")
            raise
        except Exception:
            _set_item(ctx, item_id, status="failed")
            raise
        _set_item(ctx, item_id, status="ready")
        record_plan_item_ready(ctx.db, ctx.workspace_id, item_id, ctx.paths.data_dir)  # webhooks
        return PipelineResult(item_id=item_id, folder=folder)
    finally:
        studio.close()


def _run(ctx: JobContext, studio: Studio, item_id: uuid.UUID) -> Path:
    item = _item(ctx, item_id)
    names = steps_of(item)
    for index, name in enumerate(names):
        item = _item(ctx, item_id)
        state = dict(item.pipeline or {})
        if (state.get(name) or {}).get("done"):
            continue
        base, share = index / len(names), 1 / len(names)
        ctx.progress(base, stage=f"Step {index + 1} of {len(names)}: {name}")
        done = STEPS[name](ctx, studio, item, state, _part_of_whole(ctx, base, share))
        state[name] = {**(state.get(name) or {}), **done, "done": True}
        _set_item(ctx, item_id, pipeline=state)
    return Path(state["publish"]["folder"])



def _part_of_whole(ctx: JobContext, base: float, share: float) -> Progress:
    """Reports a step's own progress as its part of the whole pipeline's."""
    return lambda fraction: ctx.progress(base + fraction * share)


# Steps -------------------------------------------------------------------------------------------

def _image(ctx: JobContext, studio: Studio, item: PlanItem, state: dict[str, Any],
           progress: Progress) -> dict[str, Any]:
    from studio.engine.comfyui.generation import GenerationRequest, find_template, submit_generation
    from studio.engine.loras.library import her_lora

    def submit() -> uuid.UUID:
        influencer = _influencer(ctx, item)
        family = find_template(ctx.settings.pipeline.template, studio.paths).base
        lora = her_lora(studio, ctx.workspace_id, influencer.id, family) if influencer else None  # of its family
        values: dict[str, object] = {"positive": item.image_prompt}
        if lora is not None:
            values["lora_name"] = lora
        if ctx.settings.pipeline.checkpoint:
            values["checkpoint"] = ctx.settings.pipeline.checkpoint
        request = GenerationRequest(influencer_id=influencer.id if influencer else None,
                                    template=ctx.settings.pipeline.template, values=values, count=1)
        [job] = submit_generation(studio, ctx.workspace_id, request)  # a new seed each time
        return job.id

    gate = gate_of(ctx.settings.pipeline)
    if (state.get("image") or {}).get("gave_up"):  # a new run after one that gave up: fresh tries
        state["image"] = {}
    while True:
        job = _step_job(ctx, item.id, state, "image", submit, progress)
        files = _asset_files(ctx, job)
        if not files:
            raise JobFailed("The picture step finished without a picture.")
        if not gate.on or _looks_like_her(ctx, item, state, gate, job):
            return {"job_id": str(job.id), "files": [str(f) for f in files], "detail": files[0].name,
                    "tries": (state.get("image") or {}).get("tries", [])}


def _looks_like_her(ctx: JobContext, item: PlanItem, state: dict[str, Any], gate: Gate, job: Job) -> bool:
    """Judges the step's picture; False: another one is to be made (the step's job is dropped
    from the state, so the next round submits anew). Raises JobFailed when it cannot be judged
    or the tries are spent, keeping the best picture on the step."""
    made = result_of(job, ImageResult)
    verdict = judge(ctx.db, job.id, list(made.assets) if made else [])
    step = dict(state.get("image") or {})
    tries = [t for t in step.get("tries", []) if t.get("job_id") != str(job.id)] + [verdict.to_dict()]
    influencer = _influencer(ctx, item)
    name = influencer.name if influencer else "her"
    if passes(gate, verdict):
        state["image"] = {**step, "tries": tries}
        return True
    if cannot_judge(verdict):
        raise JobFailed(refusal(name, gate, verdict))
    if len(tries) >= gate.tries:
        kept = best(tries)
        state["image"] = {"job_id": kept["job_id"], "tries": tries, "gave_up": True}
        _set_item(ctx, item.id, pipeline=state)
        raise JobFailed(gave_up(name, gate, tries))
    state["image"] = {"tries": tries}
    _set_item(ctx, item.id, pipeline=state)
    return False


def _video(ctx: JobContext, studio: Studio, item: PlanItem, state: dict[str, Any],
           progress: Progress) -> dict[str, Any]:
    from studio.engine.media.i2v import VideoRequest, VideoResult, find_video_template, submit_video

    def submit() -> uuid.UUID:
        template = find_video_template(ctx.settings.pipeline.video_template)
        values: dict[str, object] = {}
        for name in ("positive", "prompt"):
            if name in template.parameters:
                values[name] = item.video_prompt
        influencer = _influencer(ctx, item)
        return submit_video(studio, ctx.workspace_id, VideoRequest(
            image=Path(state["image"]["files"][0]), template=template.name, values=values,
            influencer_id=influencer.id if influencer else None)).id

    job = _step_job(ctx, item.id, state, "video", submit, progress)
    made = result_of(job, VideoResult)
    output = LocalStore(ctx.paths.assets_dir).path(made.output) if made else Path()
    if not output.is_file():
        raise JobFailed("The clip step finished without a clip.")
    return {"job_id": str(job.id), "files": [str(output)], "detail": output.name}


def _export(ctx: JobContext, studio: Studio, item: PlanItem, state: dict[str, Any],
            progress: Progress) -> dict[str, Any]:
    video = "video" in state
    preset = preset_for(item.platform, video=video)
    stem = f"{item.scheduled_at:%Y-%m-%d}-{item.platform}"
    if not video:  # a still picture takes a moment: no job of its own
        from studio.engine.media.presets import find_preset, user_presets_dir
        from studio.engine.media.still import export_still
        source = Path(state["image"]["files"][0])
        target = LocalStore(ctx.paths.assets_dir).path(f"images/{ctx.workspace_id}/{ctx.job_id}/{stem}.jpg")
        result = export_still(source, find_preset(preset, user_presets_dir(ctx.paths.data_dir)), target)
        progress(1.0)
        return {"files": [str(result.path)], "detail": f"{preset} {result.width}×{result.height}"}

    from studio.engine.media.jobs import ExportOutcome, ExportRequest, submit_export
    from studio.engine.media.probe import probe
    from studio.engine.media.subtitles import cues_from_caption

    def submit() -> uuid.UUID:
        clip = Path(state["video"]["files"][0])
        cues = None
        if item.subtitle_text.strip():
            cues = cues_from_caption(item.subtitle_text, probe(clip).duration_s or 3.0)
        influencer = _influencer(ctx, item)
        return submit_export(studio, ctx.workspace_id, ExportRequest(
            inputs=[clip], preset=preset, cues=cues, cover_at_s=0.5, name=f"{stem}.mp4",
            influencer_id=influencer.id if influencer else None,
            extra={"plan_item_id": str(item.id)})).id

    job = _step_job(ctx, item.id, state, "export", submit, progress)
    exported = result_of(job, ExportOutcome)
    if exported is None:
        raise JobFailed("The export step finished without a video.")
    output = LocalStore(ctx.paths.assets_dir).path(exported.output)
    cover = output.with_name(f"{output.stem}-cover.jpg")
    files = [str(output)] + ([str(cover)] if cover.is_file() else [])
    return {"job_id": str(job.id), "files": files, "detail": preset}


def _publish(ctx: JobContext, studio: Studio, item: PlanItem, state: dict[str, Any],
             progress: Progress) -> dict[str, Any]:
    influencer = _influencer(ctx, item)
    root = Path(ctx.settings.pipeline.publish_dir).expanduser() if ctx.settings.pipeline.publish_dir \
        else ctx.paths.data_dir / "publish"
    folder = publish_item(root, item, influencer.name if influencer else "",
                          [Path(f) for f in state["export"]["files"]],
                          {k: v.get("job_id") for k, v in state.items() if isinstance(v, dict)})
    progress(1.0)
    return {"folder": str(folder), "detail": folder.name}


STEPS = {"image": _image, "video": _video, "export": _export, "publish": _publish}


# Step jobs -----------------------------------------------------------------------------------------

def _step_job(ctx: JobContext, item_id: uuid.UUID, state: dict[str, Any], name: str,
              submit: Callable[[], uuid.UUID], progress: Progress) -> Job:
    """The step's job, finished: a still running one (from a run that died) is waited for, a
    failed or canceled one is submitted again, a missing one submitted now."""
    known = (state.get(name) or {}).get("job_id")
    job = _job(ctx, uuid.UUID(known)) if known else None
    if job is None or job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        job_id = submit()
        _adopt(ctx, job_id)
        state[name] = {**(state.get(name) or {}), "job_id": str(job_id)}  # keeps the image step's tries
        _set_item(ctx, item_id, pipeline=state)
        job = _job(ctx, job_id)
    assert job is not None
    return _wait_for(ctx, job.id, name, progress)


def _wait_for(ctx: JobContext, job_id: uuid.UUID, name: str, progress: Progress) -> Job:
    while True:
        job = _job(ctx, job_id)
        if job is None:
            raise JobFailed(f"The {name} step's job was deleted.")
        if job.status == JobStatus.COMPLETED:
            progress(1.0)
            return job
        if job.status in (JobStatus.FAILED, JobStatus.CANCELED):
            raise JobFailed(f"The {name} step {job.status}: {job.error or job.message}")
        progress(job.progress)
        try:
            ctx.check_canceled()
        except JobCanceled:
            _cancel(ctx, job_id)
            raise
        time.sleep(POLL_S)


def _cancel(ctx: JobContext, job_id: uuid.UUID) -> None:
    """The step's job too: one conditional UPDATE each, as JobService.cancel does, so the step's
    own progress writes cannot make it fail."""
    with ctx.db.session() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.PENDING).values(
            status=JobStatus.CANCELED, message="Canceled with its pipeline.", version=Job.version + 1))
        session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.PROCESSING).values(
            cancel_requested=True, message="Canceling…", version=Job.version + 1))


def _adopt(ctx: JobContext, job_id: uuid.UUID) -> None:
    with ctx.db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(parent_id=ctx.job_id))


def _job(ctx: JobContext, job_id: uuid.UUID) -> Job | None:
    with ctx.db.session() as session:
        return session.get(Job, job_id)


def _asset_files(ctx: JobContext, job: Job) -> list[Path]:
    made = result_of(job, ImageResult)
    ids = made.assets if made is not None else ()
    store = LocalStore(ctx.paths.assets_dir)
    with ctx.db.session() as session:
        assets = [session.get(Asset, i) for i in ids]
    return [store.path(a.storage_key) for a in assets if a is not None and a.kind == "image"]


# Records -------------------------------------------------------------------------------------------

def _item(ctx: JobContext, item_id: uuid.UUID) -> PlanItem:
    with ctx.db.session() as session:
        return Repository(session, ctx.workspace_id).get(PlanItem, item_id)


def _set_item(ctx: JobContext, item_id: uuid.UUID, **fields: Any) -> None:
    with ctx.db.session() as session:
        repo = Repository(session, ctx.workspace_id)
        repo.update(repo.get(PlanItem, item_id), **fields)


def _influencer(ctx: JobContext, item: PlanItem) -> Influencer | None:
    from studio.engine.db.models import ContentPlan
    with ctx.db.session() as session:
        plan = session.get(ContentPlan, item.plan_id)
        return session.get(Influencer, plan.influencer_id) if plan is not None else None


def _wait_until(ctx: JobContext, not_before: datetime | None) -> None:
    """The daily run staggers its pipelines; a cancel still ends the wait at once."""
    if not_before is None:
        return
    start = not_before
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    while datetime.now(UTC) < start:
        ctx.progress(0.0, stage="Waiting for its turn", message=f"starts at {start.astimezone():%H:%M}")
        ctx.check_canceled()
        time.sleep(min(POLL_S * 2, max(0.0, (start - datetime.now(UTC)).total_seconds())))
