"""Images through ComfyUI: ``submit_generation`` queues "generate-image" jobs, a worker runs them.

Submitting checks the filled workflow against ComfyUI's /object_info first (Decision 10), so a
missing checkpoint, LoRA or node pack is one sentence now, not a failed job later. The job
uploads its input images, follows the prompt (progress, the latest preview frame in the cache),
downloads every output into the asset store and records the full recipe on each Asset.

The generation queue runs 3 jobs at a time, so ComfyUI's own queue always holds the next prompt
and the GPU never waits for the studio between two images.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from PIL import Image, UnidentifiedImageError

from studio.engine.comfyui.client import (ComfyClient, ComfyRejected, ComfyUnavailable, OutputFile,
                                          ProgressEvent, PromptResult)
from studio.engine.comfyui.loras import hand_off
from studio.engine.comfyui.supervisor import comfy_url, supervisor_for
from studio.engine.comfyui.user_workflows import all_templates
from studio.engine.comfyui.validation import check, choices
from studio.engine.comfyui.workflows import (RANDOM_SEED_LIMIT, FilledWorkflow, WorkflowTemplate,
                                             fill, load_templates)
from studio.engine.config import Paths
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_write_bytes
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled, JobFailed
from studio.engine.jobs.gpu import gpu_lock
from studio.engine.jobs.registry import job_type
from studio.engine.storage.local import LocalStore

JOB_TYPE = "generate-image"
MAX_COUNT = 100
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_RUN_SHARE = 0.95  # of the progress bar; downloading and storing the outputs take the rest
_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]")


class ComfyNotAnswering(InvalidInput):
    """ComfyUI could not be reached when a generation was submitted; nothing was queued."""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    influencer_id: uuid.UUID | None
    template: str
    values: dict[str, object]  # by the template's parameter names; image values are local paths
    count: int = 1


# Submitting ------------------------------------------------------------------------------------

def submit_generation(studio: Studio, workspace_id: uuid.UUID, request: GenerationRequest) -> list[Job]:
    """One job per image wanted, each with its own seed; checked against ComfyUI before queueing."""
    if not 1 <= request.count <= MAX_COUNT:
        raise InvalidInput(f"The number of images must be from 1 to {MAX_COUNT}, not {request.count}.")
    template = find_template(request.template, studio.paths)
    influencer = _influencer(studio, workspace_id, request.influencer_id)
    supervisor = supervisor_for(studio.settings, studio.paths.logs_dir)
    if supervisor is not None:  # a local ComfyUI the studio runs: start it if it is not up
        supervisor.ensure_running()
    url = comfy_url(studio.settings)
    object_info = fetch_object_info(url)
    if _handed_off_lora(studio, workspace_id, request.values, object_info):
        object_info = fetch_object_info(url)  # ComfyUI lists the folder afresh
    values = _local_images(template, dict(request.values), object_info)
    filled = [fill(template, {**values, **_seed_of(template, values, index)})
              for index in range(request.count)]
    for workflow in filled:
        check(workflow.graph, object_info)
    items = []
    for workflow in filled:
        recorded = _recorded(template, workflow, values)
        items.append(({"template": template.name, "values": recorded, "comfyui_url": url,
                       "influencer_id": str(influencer.id) if influencer else None},
                      _title(template, recorded, influencer)))
    return studio.jobs.submit_many(workspace_id, JOB_TYPE, items)


def _handed_off_lora(studio: Studio, workspace_id: uuid.UUID, values: dict[str, object],
                     object_info: dict[str, Any]) -> bool:
    """A LoRA ComfyUI lacks but the studio holds (a trained one) is placed in its folder."""
    name = str(values.get("lora_name") or "")
    if not name or name in (choices(object_info, "LoraLoader", "lora_name") or [name]):
        return False
    return hand_off(studio, workspace_id, name) is not None


def find_template(name: str, paths: Paths | None = None) -> WorkflowTemplate:
    """A built-in template or, with ``paths``, one of the user's own workflows."""
    templates = (all_templates(paths) if paths is not None else load_templates()).templates
    if name not in templates:
        raise InvalidInput(f"There is no workflow template '{name}'; there are: "
                           f"{', '.join(sorted(templates)) or 'none'}.")
    return templates[name]


def fetch_object_info(url: str) -> dict[str, Any]:
    """ComfyUI's node catalogue, or one sentence saying it does not answer."""
    try:
        with ComfyClient(url, timeout=10) as client:
            return client.object_info()
    except ComfyUnavailable:
        raise ComfyNotAnswering(f"ComfyUI does not answer at {url}: start it or set "
                                "comfyui.url.") from None
    except ComfyRejected as exc:
        raise ComfyNotAnswering(f"{exc} Is {url} a ComfyUI server?") from None


def is_local(url: str) -> bool:
    """A ComfyUI on this machine shares its GPU with training (Decision 4)."""
    return (urlparse(url).hostname or "").lower() in LOCAL_HOSTS


def _seed_of(template: WorkflowTemplate, values: dict[str, object], index: int) -> dict[str, object]:
    """A locked seed counts up from the one given; otherwise each image draws its own."""
    if "seed" not in template.parameters:
        return {}
    seed = values.get("seed")
    if seed is None or seed == -1 or seed == "-1" or seed == "":
        return {"seed": secrets.randbelow(RANDOM_SEED_LIMIT + 1)}
    try:
        return {"seed": int(str(seed)) + index}
    except ValueError:
        raise InvalidInput(f"seed must be a whole number, not {seed!r}.") from None


def _local_images(template: WorkflowTemplate, values: dict[str, object],
                  object_info: dict[str, Any]) -> dict[str, object]:
    """Image parameters as absolute paths of local files (the job uploads them); a name ComfyUI
    already has in its input folder is kept as it is."""
    for name, param in template.parameters.items():
        value = values.get(name)
        if param.type != "image" or value in (None, ""):
            continue
        path = Path(str(value)).expanduser()
        if path.is_file():
            values[name] = str(path.absolute())
            continue
        node = template.graph.get(param.node, {})
        offered = choices(object_info, node.get("class_type", ""), param.input) or []
        if str(value) not in offered:
            raise InvalidInput(f"The {param.title or name} '{value}' is not a file here nor an "
                               "image in ComfyUI's input folder.")
    return values


def _recorded(template: WorkflowTemplate, workflow: FilledWorkflow,
              given: dict[str, object]) -> dict[str, object]:
    """The values to fill the template with again: every value used, and what was asked where
    the graph shows none (lora_name "" removes the loader); images as local paths."""
    used = {k: v for k, v in workflow.values.items() if v is not None}
    asked = {k: v for k, v in given.items() if k in template.parameters and k not in used}
    return {**used, **asked, **_image_values(template, given)}


def _image_values(template: WorkflowTemplate, values: dict[str, object]) -> dict[str, object]:
    return {n: values[n] for n, p in template.parameters.items() if p.type == "image" and n in values}


def _influencer(studio: Studio, workspace_id: uuid.UUID,
                influencer_id: uuid.UUID | None) -> Influencer | None:
    if influencer_id is None:
        return None
    with studio.db.session() as session:
        return Repository(session, workspace_id).get(Influencer, influencer_id)


def _title(template: WorkflowTemplate, values: dict[str, object], influencer: Influencer | None) -> str:
    prompt = " ".join(str(values.get("positive") or "").split())
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    who = f"{influencer.name}: " if influencer else ""
    seed = f" (seed {values['seed']})" if values.get("seed") is not None else ""
    return f"{who}{prompt or template.title}{seed}"


# Running ---------------------------------------------------------------------------------------

@job_type(JOB_TYPE, queue="generation")
def run_generation(ctx: JobContext) -> dict[str, Any]:
    template = find_template(str(ctx.payload.get("template")), ctx.paths)
    values = dict(ctx.payload.get("values") or {})
    supervisor = supervisor_for(ctx.settings, ctx.paths.logs_dir)
    if supervisor is not None:  # restarted here if it died since the job was queued
        supervisor.ensure_running()
    url = str(ctx.payload.get("comfyui_url") or comfy_url(ctx.settings))
    started = time.monotonic()
    with ComfyClient(url) as client, _gpu_for(url, ctx):
        sent = {**values, **_upload_images(ctx, client, template, values)}
        workflow = fill(template, sent)
        result = client.run(workflow.graph, on_event=_Progress(ctx).on_event,
                            cancel=lambda: _canceled(ctx))
        ctx.progress(_RUN_SHARE, stage="Saving", message=f"{len(result.files())} file(s)")
        downloads = [(f, client.download(f)) for f in result.files()]
    recipe = _recipe(template, workflow, values, result, time.monotonic() - started)
    asset_ids = _store(ctx, downloads, recipe)
    preview_file(ctx.paths.cache_dir, ctx.job_id).unlink(missing_ok=True)  # the images are here now
    return {"assets": [str(a) for a in asset_ids], "prompt_id": result.prompt_id,
            "seed": workflow.seed}


def preview_file(cache_dir: Path, job_id: uuid.UUID | str) -> Path:
    return cache_dir / "previews" / f"{job_id}.jpg"


def safe_file_name(name: str) -> str:
    """The last part of a server-given name, without separators or odd characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return _UNSAFE.sub("_", base).lstrip(". ") or "output"


def _canceled(ctx: JobContext) -> bool:
    try:
        ctx.check_canceled()
    except JobCanceled:
        return True
    return False


def _upload_images(ctx: JobContext, client: ComfyClient, template: WorkflowTemplate,
                   values: dict[str, Any]) -> dict[str, str]:
    """Local image files go into ComfyUI's input folder under a name made of their content, so
    a retry or another job with the same picture reuses the upload."""
    sent = {}
    for name, value in _image_values(template, values).items():
        path = Path(str(value))
        if not path.is_absolute():
            continue  # already a name in ComfyUI's input folder
        ctx.progress(0.0, stage="Uploading", message=path.name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise JobFailed(f"The {name.replace('_', ' ')} {path} cannot be read: "
                            f"{exc.strerror or exc}.") from None
        digest = hashlib.sha256(data).hexdigest()[:16]
        upload = client.upload_image(data, f"studio-{digest}{path.suffix.lower()}", overwrite=True)
        sent[name] = upload.reference
    return sent


class _Progress:
    """ComfyUI's events as job progress: node name as stage, "step k/n", the latest preview."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.preview = preview_file(ctx.paths.cache_dir, ctx.job_id)

    def on_event(self, event: ProgressEvent) -> None:
        fraction = event.fraction * _RUN_SHARE
        if event.kind == "queued":
            waiting = event.queue_remaining
            self.ctx.progress(0.0, stage="Queued in ComfyUI",
                              message=f"{waiting} in ComfyUI's queue" if waiting else "")
        elif event.kind in ("executing", "progress"):
            step = f"step {event.value}/{event.max}" if event.max else ""
            self.ctx.progress(fraction, stage=event.label, message=step)
        elif event.kind == "reconnecting":
            self.ctx.progress(fraction, stage="Reconnecting to ComfyUI")
        elif event.kind == "preview" and event.preview:
            self._write_preview(event.preview)

    def _write_preview(self, data: bytes) -> None:
        # Written whole then renamed, so the UI never reads half a frame. The name says .jpg;
        # the bytes are whatever ComfyUI sent (JPEG or PNG), and image readers sniff the content.
        self.preview.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.preview, data)


def _recipe(template: WorkflowTemplate, workflow: FilledWorkflow, values: dict[str, Any],
            result: PromptResult, total_s: float) -> dict[str, Any]:
    """Everything needed to make the image again: the graph as sent and every parameter."""
    return {"template": template.name, "graph": workflow.graph,
            "values": _recorded(template, workflow, values),
            "seed": workflow.seed, "checkpoint": _model(template, workflow, "checkpoint"),
            "lora": _model(template, workflow, "lora"),
            "lora_strength": workflow.values.get("lora_strength"),
            "comfyui_version": result.comfyui_version, "prompt_id": result.prompt_id,
            "timings": {**result.timings, "job": round(total_s, 3)}}


def _model(template: WorkflowTemplate, workflow: FilledWorkflow, key: str) -> str | None:
    slot = template.models.get(key)
    node = workflow.graph.get(slot.node) if slot else None  # a bypassed LoRA has no node
    value = node["inputs"].get(slot.input) if node and slot else None
    return value if isinstance(value, str) and value else None


def _store(ctx: JobContext, downloads: list[tuple[OutputFile, bytes]],
           recipe: dict[str, Any]) -> list[uuid.UUID]:
    """Files first, rows after: a retry overwrites the same keys instead of leaving orphans."""
    store = LocalStore(ctx.paths.assets_dir)
    influencer_id = ctx.payload.get("influencer_id")
    used: set[str] = set()
    assets = []
    for output, data in downloads:
        name = _unique(safe_file_name(output.filename), used)
        stored = store.put_bytes(data, f"images/{ctx.workspace_id}/{ctx.job_id}/{name}")
        width, height = _size(data)
        assets.append(Asset(
            kind="video" if output.animated else "image", storage_key=stored.key, job_id=ctx.job_id,
            influencer_id=uuid.UUID(influencer_id) if influencer_id else None,
            sha256=stored.sha256, size_bytes=stored.size_bytes,
            meta={"recipe": recipe, "width": width, "height": height, "rating": 0,
                  "favourite": False,
                  "path": str(stored.path)}))  # so use_as_input works from the row alone
    with ctx.db.session() as session:
        repo = Repository(session, ctx.workspace_id)
        for asset in assets:
            repo.add(asset)
        return [a.id for a in assets]


def _unique(name: str, used: set[str]) -> str:
    stem, dot, suffix = name.rpartition(".")
    candidate, number = name, 0
    while candidate in used:
        number += 1
        candidate = f"{stem}-{number}.{suffix}" if dot else f"{name}-{number}"
    used.add(candidate)
    return candidate


def _size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return 0, 0  # not a still image (a video output): no size to show


# The GPU ---------------------------------------------------------------------------------------

class _SharedGpuHold:
    """One hold of the machine's GPU lock, shared by this process's generation jobs.

    Each job taking the lock for itself would let only one prompt into ComfyUI at a time and
    leave the GPU idle while the studio downloads and submits. Instead the first job takes it on
    a holder thread, later jobs join, and the last one out releases it; training waits for that.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._held = False
        self._holder_running = False

    @contextmanager
    def hold(self, ctx: JobContext) -> Iterator[None]:
        with self._cond:
            self._users += 1
            if not self._holder_running:
                self._holder_running = True
                threading.Thread(target=self._holder, name="gpu-hold", daemon=True).start()
        try:
            self._wait_until_held(ctx)
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    def _wait_until_held(self, ctx: JobContext) -> None:
        with self._cond:  # uncontended, the holder thread has it in a moment: say nothing
            if self._cond.wait_for(lambda: self._held, timeout=0.2):
                return
        ctx.progress(0.0, stage="Waiting for the GPU", message="another job is using it")
        while True:
            with self._cond:
                if self._cond.wait_for(lambda: self._held, timeout=0.5):
                    return
            ctx.check_canceled()  # a training may hold the GPU for hours

    def _holder(self) -> None:
        while True:
            with gpu_lock():
                with self._cond:
                    self._held = True
                    self._cond.notify_all()
                    while self._users:
                        self._cond.wait()
                    self._held = False
            with self._cond:
                if not self._users:  # nobody joined while the lock was let go
                    self._holder_running = False
                    return


_gpu_share = _SharedGpuHold()


@contextmanager
def _gpu_for(url: str, ctx: JobContext) -> Iterator[None]:
    """The GPU lock for a ComfyUI on this machine; none for one on another host (Decision 4)."""
    if not is_local(url):
        yield
        return
    with _gpu_share.hold(ctx):
        yield
