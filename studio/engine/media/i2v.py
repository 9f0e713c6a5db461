"""Image to video through ComfyUI: "generate-video" jobs on the video queue (one at a time).

The templates (Stable Video Diffusion, AnimateDiff) live in ``resources/workflows/video``, in the
same two-file format as the image templates. Submitting fills the template and checks it against
ComfyUI's /object_info (Decision 10: a missing AnimateDiff or VideoHelperSuite pack is one
sentence now). The job uploads the input image, follows the prompt, and keeps what comes back:
a video file (SaveVideo/SaveWEBM list it under ``images`` with ``animated``, VideoHelperSuite
under ``gifs``) as it is, or an image sequence (SaveImage frames) joined into an H.264 clip.
"""
from __future__ import annotations

import hashlib
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock, Timeout
from PIL import Image, UnidentifiedImageError

from studio.engine.comfyui.client import ComfyClient, OutputFile, ProgressEvent
from studio.engine.comfyui.generation import fetch_object_info, is_local, safe_file_name
from studio.engine.comfyui.supervisor import comfy_url, supervisor_for
from studio.engine.comfyui.validation import check
from studio.engine.comfyui.workflows import (BUILTIN_DIR, RANDOM_SEED_LIMIT, WorkflowTemplate, fill,
                                             load_templates)
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled, JobFailed
from studio.engine.jobs import gpu
from studio.engine.media.frames import assemble_frames
from studio.engine.media.probe import probe
from studio.engine.storage.local import LocalStore, sha256_file

GENERATE_JOB = "generate-video"
VIDEO_TEMPLATES_DIR = BUILTIN_DIR / "video"
DEFAULT_FPS = 8.0
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".gif", ".webp")
_RUN_SHARE = 0.85  # of the progress bar; downloading, joining frames and storing take the rest


@dataclass(frozen=True, slots=True)
class VideoRequest:
    image: Path  # a local picture: a gallery image's file or any file
    template: str = "i2v-svd"
    values: dict[str, object] = field(default_factory=dict)  # frames, fps, motion, seed, …
    influencer_id: uuid.UUID | None = None


def video_templates() -> dict[str, WorkflowTemplate]:
    loaded = load_templates(builtin_dir=VIDEO_TEMPLATES_DIR)
    if loaded.errors:
        raise InvalidInput(loaded.errors[0])
    return loaded.templates


def find_video_template(name: str) -> WorkflowTemplate:
    templates = video_templates()
    if name not in templates:
        raise InvalidInput(f"There is no video template '{name}'; there are: "
                           f"{', '.join(sorted(templates))}.")
    return templates[name]


def submit_video(studio: Studio, workspace_id: uuid.UUID, request: VideoRequest) -> Job:
    """Checks the image and the filled workflow against ComfyUI, then queues one job."""
    template = find_video_template(request.template)
    image = _checked_image(Path(request.image))
    supervisor = supervisor_for(studio.settings, studio.paths.logs_dir)
    if supervisor is not None:
        supervisor.ensure_running()
    url = comfy_url(studio.settings)
    object_info = fetch_object_info(url)
    values = {**request.values, "input_image": str(image)}
    # A template that saves frames has no frame rate of its own: the studio joins them at this.
    fps = values.get("fps") if "fps" in template.parameters else values.pop("fps", None)
    if values.get("seed") in (None, "", -1, "-1") and "seed" in template.parameters:
        values["seed"] = secrets.randbelow(RANDOM_SEED_LIMIT + 1)
    workflow = fill(template, values)
    check(workflow.graph, object_info)
    recorded = {**{k: v for k, v in workflow.values.items() if v is not None},
                "input_image": str(image)}
    payload = {"template": template.name, "values": recorded, "comfyui_url": url,
               "fps": _fps(fps),
               "influencer_id": str(request.influencer_id) if request.influencer_id else None}
    title = f"Video from {image.name} ({template.title})"
    return studio.jobs.submit(workspace_id, GENERATE_JOB, payload, title=title)


def _fps(value: object) -> float:
    try:
        fps = float(str(value)) if value not in (None, "") else DEFAULT_FPS
    except ValueError:
        raise InvalidInput(f"fps must be a number, not {value!r}.") from None
    if not 1 <= fps <= 60:
        raise InvalidInput(f"fps must be from 1 to 60, not {fps:g}.")
    return fps


def _checked_image(path: Path) -> Path:
    path = path.expanduser().absolute()
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file.")
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError):
        raise InvalidInput(f"{path.name} is not an image ComfyUI can load.") from None
    return path


# Running ----------------------------------------------------------------------------------------

def run_video_generation(ctx: JobContext) -> dict[str, Any]:
    template = find_video_template(str(ctx.payload.get("template")))
    values = dict(ctx.payload.get("values") or {})
    supervisor = supervisor_for(ctx.settings, ctx.paths.logs_dir)
    if supervisor is not None:
        supervisor.ensure_running()
    url = str(ctx.payload.get("comfyui_url") or comfy_url(ctx.settings))
    started = time.monotonic()
    with ComfyClient(url) as client, _gpu_for(url, ctx):
        image = Path(str(values["input_image"]))
        sent = {**values, "input_image": _upload(ctx, client, image)}
        workflow = fill(template, sent)
        result = client.run(workflow.graph, on_event=lambda e: _on_event(ctx, e),
                            cancel=lambda: _canceled(ctx))
        ctx.progress(_RUN_SHARE, stage="Saving", message=f"{len(result.files())} file(s)")
        videos = [f for f in result.files() if _is_video(f)]
        frames = [f for f in result.files() if not _is_video(f) and f.kind == "images"
                  and f.type == "output"]
        if not videos and not frames:
            raise JobFailed("ComfyUI finished but saved no video and no frames; does the "
                            "workflow end in a save node?")
        downloads = [(f, client.download(f)) for f in (videos[:1] or frames)]
    recipe = {"template": template.name, "graph": workflow.graph, "values": values,
              "seed": workflow.seed, "prompt_id": result.prompt_id,
              "comfyui_version": result.comfyui_version,
              "timings": {**result.timings, "job": round(time.monotonic() - started, 3)}}
    fps = float(ctx.payload.get("fps") or DEFAULT_FPS)
    asset_id, stored = _store(ctx, downloads, fps, recipe, assembled=not videos)
    return {"assets": [str(asset_id)], "output": str(stored), "prompt_id": result.prompt_id,
            "seed": workflow.seed}


def _is_video(output: OutputFile) -> bool:
    suffix = PurePosixPath(output.filename).suffix.lower()
    return output.kind == "gifs" or (output.animated and suffix in VIDEO_SUFFIXES) or suffix in (
        ".mp4", ".webm", ".mov", ".mkv")


def _upload(ctx: JobContext, client: ComfyClient, image: Path) -> str:
    ctx.progress(0.0, stage="Uploading", message=image.name)
    try:
        data = image.read_bytes()
    except OSError as exc:
        raise JobFailed(f"The input image {image} cannot be read: {exc.strerror or exc}.") from None
    digest = hashlib.sha256(data).hexdigest()[:16]
    return client.upload_image(data, f"studio-{digest}{image.suffix.lower()}", overwrite=True).reference


def _on_event(ctx: JobContext, event: ProgressEvent) -> None:
    if event.kind == "queued":
        ctx.progress(0.0, stage="Queued in ComfyUI")
    elif event.kind in ("executing", "progress"):
        step = f"step {event.value}/{event.max}" if event.max else ""
        ctx.progress(event.fraction * _RUN_SHARE, stage=event.label, message=step)
    elif event.kind == "reconnecting":
        ctx.progress(event.fraction * _RUN_SHARE, stage="Reconnecting to ComfyUI")


def _store(ctx: JobContext, downloads: list[tuple[OutputFile, bytes]], fps: float,
           recipe: dict[str, Any], *, assembled: bool) -> tuple[uuid.UUID, Path]:
    """The clip in the store under videos/<workspace>/<job>/, its probe on the Asset."""
    store = LocalStore(ctx.paths.assets_dir)
    folder = f"videos/{ctx.workspace_id}/{ctx.job_id}"
    if assembled:
        stem = Path(safe_file_name(downloads[0][0].filename)).stem.rstrip("_0123456789")
        key = f"{folder}/{stem or 'clip'}.mp4"
        with tempfile.TemporaryDirectory(prefix="studio-frames-") as tmp:
            paths = []
            for index, (output, data) in enumerate(downloads):
                path = Path(tmp) / f"{index:05d}{PurePosixPath(output.filename).suffix.lower()}"
                path.write_bytes(data)
                paths.append(path)
            ctx.progress(_RUN_SHARE, stage="Joining frames", message=f"{len(paths)} frames")
            assemble_frames(ctx.settings, paths, fps, store.path(key),
                            cancel=lambda: _canceled(ctx))
        stored_path = store.path(key)
    else:
        output, data = downloads[0]
        key = f"{folder}/{safe_file_name(output.filename)}"
        stored_path = store.put_bytes(data, key).path
    info = probe(stored_path)
    influencer = ctx.payload.get("influencer_id")
    asset = Asset(kind="video", storage_key=key, job_id=ctx.job_id,
                  influencer_id=uuid.UUID(influencer) if influencer else None,
                  sha256=sha256_file(stored_path), size_bytes=info.size_bytes,
                  meta={"recipe": recipe, "probe": info.as_dict(), "duration_s": info.duration_s,
                        "width": info.video.width if info.video else 0,
                        "height": info.video.height if info.video else 0,
                        "frames_joined": len(downloads) if assembled else 0,
                        "source_image": recipe["values"].get("input_image"),
                        "path": str(stored_path)})
    with ctx.db.session() as session:
        return Repository(session, ctx.workspace_id).add(asset).id, stored_path


def _canceled(ctx: JobContext) -> bool:
    try:
        ctx.check_canceled()
    except JobCanceled:
        return True
    return False


@contextmanager
def _gpu_for(url: str, ctx: JobContext) -> Iterator[None]:
    """The machine's GPU lock for a ComfyUI on this machine (Decision 4); a cancel while
    waiting for it (a training may hold it for hours) ends the wait."""
    if not is_local(url):
        yield
        return
    lock = FileLock(str(gpu.gpu_lock_path()))
    told = False
    while True:
        try:
            lock.acquire(timeout=0.5)
            break
        except Timeout:
            if not told:
                ctx.progress(0.0, stage="Waiting for the GPU", message="another job is using it")
                told = True
            ctx.check_canceled()
    try:
        yield
    finally:
        lock.release()
