"""A job that runs one prompt on ComfyUI: the base of image and video generation.

``ComfyJob.run`` does what every ComfyUI job does: takes this machine's GPU for a ComfyUI on
this machine (Decision 4: one on another host takes none), uploads the input images, submits
the filled workflow, follows it (node as stage, "step k/n", the latest preview frame in the
cache), cancels it when the user asks (ComfyUI interrupts it or drops it from its queue),
downloads what it saved and hands that to ``store``. Subclasses say only what differs: which
template, which outputs count, how they become Assets, and their share of the progress bar.
"""
from __future__ import annotations

import hashlib
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlparse

from studio.engine.comfyui.client import ComfyClient, ComfyRejected, PromptResult
from studio.engine.comfyui.loras import place_for_job
from studio.engine.comfyui.messages import OutputFile, ProgressEvent
from studio.engine.comfyui.node_cache import forget
from studio.engine.comfyui.supervisor import comfy_url, supervisor_for
from studio.engine.comfyui.workflow_fill import fill
from studio.engine.comfyui.workflows import FilledWorkflow, WorkflowTemplate
from studio.engine.db.models import Asset
from studio.engine.db.repositories import Repository
from studio.engine.fsutil import atomic_write_bytes
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.gpu import hold_gpu
from studio.engine.jobs.payloads import AssetKey
from studio.engine.storage.local import LocalStore

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]")

Downloads = list[tuple[OutputFile, bytes]]


@dataclass(frozen=True, slots=True)
class ComfyPayload:
    """What a ComfyUI job takes: the template, its values, and its input pictures by asset key
    (read from the asset store of the machine that runs the job)."""

    template: str
    values: dict[str, Any]  # by parameter name; an image here is a name in ComfyUI's input folder
    images: dict[str, AssetKey] = field(default_factory=dict)  # image parameter → picture
    comfyui_url: str = ""  # as checked at submit; empty: this machine's setting
    influencer_id: uuid.UUID | None = None

    def recorded(self) -> dict[str, Any]:
        """The values as a recipe records them, pictures by key: Regenerate submits them again."""
        return {**self.values, **self.images}


@dataclass(frozen=True, slots=True)
class ComfyRun:
    """One finished prompt: what was sent, what came back, how long the job took."""

    template: WorkflowTemplate
    workflow: FilledWorkflow
    values: dict[str, Any]  # as the payload gave them: pictures by asset key
    result: PromptResult
    downloads: Downloads
    seconds: float

    def recipe(self, values: dict[str, Any]) -> dict[str, Any]:
        """What every output records to be made again: the graph as sent, ``values``, seed."""
        return {"template": self.template.name, "graph": self.workflow.graph, "values": values,
                "seed": self.workflow.seed, "comfyui_version": self.result.comfyui_version,
                "prompt_id": self.result.prompt_id,
                "timings": {**self.result.timings, "job": round(self.seconds, 3)}}


class ComfyJob(ABC):
    """Submit, follow, cancel, collect, store and preview one prompt; see the module's note."""

    run_share: ClassVar[float] = 0.95  # of the progress bar; collecting and storing take the rest

    def __init__(self, ctx: JobContext, payload: ComfyPayload) -> None:
        self.ctx = ctx
        self.payload = payload

    @abstractmethod
    def find_template(self, name: str) -> WorkflowTemplate:
        """The template a payload names, among this kind's templates."""

    def wanted(self, result: PromptResult) -> list[OutputFile]:
        """The outputs to download and keep."""
        return result.files()

    @abstractmethod
    def store(self, run: ComfyRun) -> Any:
        """Keeps the downloads as Assets; returns the job's result."""

    def run(self) -> Any:
        ctx, payload = self.ctx, self.payload
        template = self.find_template(payload.template)
        store = LocalStore(ctx.paths.assets_dir)
        pictures = {name: store.path(key) for name, key in payload.images.items()}
        url = self._comfyui_url()
        place_for_job(ctx, ctx.workspace_id, payload.values)  # a retry finds a LoRA removed since submit
        started = time.monotonic()
        with ComfyClient(url) as client, gpu_for(url, ctx):
            uploaded = upload_images(ctx, client, pictures)
            workflow = fill(template, {**payload.values, **uploaded})
            try:
                result = client.run(workflow.graph, on_event=Progress(ctx, self.run_share).on_event,
                                    cancel=ctx.is_canceled)
            except ComfyRejected:
                forget(url, ctx.paths.cache_dir)  # the kept /object_info passed what ComfyUI refused
                raise
            ctx.progress(self.run_share, stage="Saving", message=f"{len(result.files())} file(s)")
            downloads = [(f, client.download(f)) for f in self.wanted(result)]
        run = ComfyRun(template=template, workflow=workflow, values=payload.recorded(), result=result,
                       downloads=downloads, seconds=time.monotonic() - started)
        outcome = self.store(run)
        preview_file(ctx.paths.cache_dir, ctx.job_id).unlink(missing_ok=True)  # outputs are here
        return outcome

    def _comfyui_url(self) -> str:
        supervisor = supervisor_for(self.ctx.settings, self.ctx.paths.logs_dir)
        if supervisor is not None:  # restarted here if it died since the job was queued
            supervisor.ensure_running()
        return self.payload.comfyui_url or comfy_url(self.ctx.settings)

    def influencer_id(self) -> uuid.UUID | None:
        return self.payload.influencer_id

    def add_assets(self, assets: list[Asset]) -> list[uuid.UUID]:
        """Rows after files: a retry overwrites the same keys instead of leaving orphans."""
        with self.ctx.db.session() as session:
            repo = Repository(session, self.ctx.workspace_id)
            for asset in assets:
                repo.add(asset)
            return [a.id for a in assets]


def is_local(url: str) -> bool:
    """A ComfyUI on this machine shares its GPU with training (Decision 4)."""
    return (urlparse(url).hostname or "").lower() in LOCAL_HOSTS


@contextmanager
def gpu_for(url: str, ctx: JobContext) -> Iterator[None]:
    """This machine's GPU, shared with the process's other ComfyUI jobs, for a ComfyUI here;
    none for one on another host."""
    if not is_local(url):
        yield
        return
    with hold_gpu(ctx, shared=True):
        yield


def preview_file(cache_dir: Path, job_id: uuid.UUID | str) -> Path:
    return cache_dir / "previews" / f"{job_id}.jpg"


def safe_file_name(name: str) -> str:
    """The last part of a server-given name, without separators or odd characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return _UNSAFE.sub("_", base).lstrip(". ") or "output"


def image_values(template: WorkflowTemplate, values: dict[str, object]) -> dict[str, object]:
    return {n: values[n] for n, p in template.parameters.items() if p.type == "image" and n in values}


def upload_images(ctx: JobContext, client: ComfyClient, pictures: dict[str, Path]) -> dict[str, str]:
    """Pictures go into ComfyUI's input folder under a name made of their content, so a retry
    or another job with the same picture reuses the upload."""
    sent = {}
    for name, path in pictures.items():
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


class Progress:
    """ComfyUI's events as job progress: node name as stage, "step k/n", the latest preview."""

    def __init__(self, ctx: JobContext, share: float) -> None:
        self.ctx = ctx
        self.share = share
        self.preview = preview_file(ctx.paths.cache_dir, ctx.job_id)

    def on_event(self, event: ProgressEvent) -> None:
        fraction = event.fraction * self.share
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
