"""Image to video through ComfyUI: "generate-video" jobs on the video queue (one at a time).

The templates (Stable Video Diffusion, AnimateDiff) live in ``resources/workflows/video``, in the
same two-file format as the image templates. Submitting fills the template and checks it against
ComfyUI's /object_info (Decision 10: a missing AnimateDiff or VideoHelperSuite pack is one
sentence now). The job (``VideoJob``, on the ComfyUI job base in ``comfyui/job.py``) uploads
the input image, follows the prompt, and keeps what comes back:
a video file (SaveVideo/SaveWEBM list it under ``images`` with ``animated``, VideoHelperSuite
under ``gifs``) as it is, or an image sequence (SaveImage frames) joined into an H.264 clip.
"""
from __future__ import annotations

import secrets
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image, UnidentifiedImageError

from studio.engine.comfyui.client import PromptResult
from studio.engine.comfyui.generation import (
    check_on_comfyui,
    lora_names,
    picture_key,
    reach_comfyui,
    recipe_models,
)
from studio.engine.comfyui.job import ComfyJob, ComfyPayload, ComfyRun, Downloads, safe_file_name
from studio.engine.comfyui.loras import hand_off, loras_folder
from studio.engine.comfyui.messages import OutputFile
from studio.engine.comfyui.supervisor import comfy_url
from studio.engine.comfyui.validation import choices
from studio.engine.comfyui.workflow_fill import fill
from studio.engine.comfyui.workflows import BUILTIN_DIR, RANDOM_SEED_LIMIT, WorkflowTemplate, load_templates
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Job
from studio.engine.errors import InvalidInput
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.payloads import AssetKey
from studio.engine.loras.family import FAMILY_TITLES
from studio.engine.loras.library import refuse_other_family
from studio.engine.media.frames import assemble_frames
from studio.engine.media.probe import probe
from studio.engine.storage.local import LocalStore, sha256_file

GENERATE_JOB = "generate-video"
VIDEO_TEMPLATES_DIR = BUILTIN_DIR / "video"
DEFAULT_FPS = 8.0
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".gif", ".webp")
# Families whose clips have group*n+1 frames (the VAE packs time).
FRAME_GROUPS = {"wan22_14b": 4, "wan22_5b": 4}


@dataclass(frozen=True, slots=True)
class VideoPayload(ComfyPayload):
    fps: float = DEFAULT_FPS  # what frames ComfyUI saves are joined at


@dataclass(frozen=True, slots=True)
class VideoResult:
    assets: tuple[uuid.UUID, ...]
    output: AssetKey  # the clip
    prompt_id: str
    seed: int | None


@dataclass(frozen=True, slots=True)
class VideoRequest:
    image: Path  # a picture: a gallery image's file, any file, or an asset key
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
    """Checks the pictures, the values and the filled workflow against ComfyUI, then queues one
    job. What can be checked here (ranges, a family's frame count) is checked before ComfyUI is
    asked anything."""
    template = find_video_template(request.template)
    refuse_other_family(studio, workspace_id, lora_names(template, request.values), template.base,
                        template.name, comfy_folder=loras_folder(studio.settings))
    images = _picture_keys(studio, workspace_id, template, request)
    values = {**request.values, **images}
    # A template that saves frames has no frame rate of its own: the studio joins them at this.
    fps = values.get("fps") if "fps" in template.parameters else values.pop("fps", None)
    if values.get("seed") in (None, "", -1, "-1") and "seed" in template.parameters:
        values["seed"] = secrets.randbelow(RANDOM_SEED_LIMIT + 1)
    workflow = fill(template, values)
    check_family_rules(template, workflow.values)
    classes = {str(n.get("class_type")) for n in template.graph.values()}
    object_info = reach_comfyui(studio, classes)
    if _handed_off(studio, workspace_id, lora_names(template, values), object_info):
        object_info = reach_comfyui(studio, classes)  # ComfyUI lists the folder afresh
    check_on_comfyui(studio, [workflow.graph], object_info)  # a kept map is asked again first
    url = comfy_url(studio.settings)
    recorded = {k: v for k, v in workflow.values.items() if v is not None and k not in images}
    payload = VideoPayload(template=template.name, values=recorded, images=images,
                           comfyui_url=url, fps=_fps(fps), influencer_id=request.influencer_id)
    title = f"Video from {Path(request.image).name} ({template.title})"
    return studio.jobs.submit(workspace_id, GENERATE_JOB, payload, title=title)


def check_family_rules(template: WorkflowTemplate, values: dict[str, object]) -> None:
    """What the model family needs beyond each value's range: Wan's VAE packs 4 frames into one
    latent after the first, so a clip has 4n+1 frames; the high-noise expert hands over before
    the last step."""
    group = FRAME_GROUPS.get(template.base)
    frames = values.get("frames")
    if group and isinstance(frames, int) and frames % group != 1:
        lower = frames - (frames - 1) % group
        raise InvalidInput(f"{FAMILY_TITLES[template.base]} makes {group}n+1 frames ("
                           f"{', '.join(str(lower + group * k) for k in range(-1, 2))}…); "
                           f"{frames} is not one: use {lower} or {lower + group}.")
    steps, split = values.get("steps"), values.get("high_noise_steps")
    if isinstance(steps, int) and isinstance(split, int) and split >= steps:
        raise InvalidInput(f"high_noise_steps ({split}) must be fewer than steps ({steps}): the "
                           "low-noise expert takes the steps after it.")


def _handed_off(studio: Studio, workspace_id: uuid.UUID, names: list[str],
                object_info: dict[str, Any]) -> bool:
    """The studio's LoRAs (trained ones) that ComfyUI lacks are placed in its loras folder, each
    expert's own too (a job places only lora_name again when it runs)."""
    offered = choices(object_info, "LoraLoaderModelOnly", "lora_name")
    if offered is None:
        return False
    placed = [name for name in names if name not in offered
              and hand_off(studio, workspace_id, name) is not None]
    return bool(placed)


def _picture_keys(studio: Studio, workspace_id: uuid.UUID, template: WorkflowTemplate,
                  request: VideoRequest) -> dict[str, AssetKey]:
    """Every picture the template takes (the input image; a last frame too) as an asset key."""
    given = {"input_image": request.image, **{n: v for n, v in request.values.items()
                                              if n in template.parameters and n != "input_image"
                                              and template.parameters[n].type == "image"}}
    keys = {}
    for name, param in template.parameters.items():
        if param.type != "image":
            continue
        if given.get(name) in (None, ""):
            raise InvalidInput(f"The template {template.name} needs the {param.title.lower()}: "
                               f"give it as {name}=FILE.")
        image = _checked_image(studio, Path(str(given[name])))
        key = picture_key(studio, workspace_id, str(image))
        if key is None:
            raise InvalidInput(f"{image} does not exist or is not a file.")
        keys[name] = key
    return keys


def _fps(value: object) -> float:
    try:
        fps = float(str(value)) if value not in (None, "") else DEFAULT_FPS
    except ValueError:
        raise InvalidInput(f"fps must be a number, not {value!r}.") from None
    if not 1 <= fps <= 60:
        raise InvalidInput(f"fps must be from 1 to 60, not {fps:g}.")
    return fps


def _checked_image(studio: Studio, path: Path) -> Path:
    path = path.expanduser()
    if not path.is_absolute() and studio.asset_path(str(path)).is_file():
        path = studio.asset_path(str(path))  # an asset key: a recipe's input submitted again
    path = path.absolute()
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file.")
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError):
        raise InvalidInput(f"{path.name} is not an image ComfyUI can load.") from None
    return path


# Running ----------------------------------------------------------------------------------------

class VideoJob(ComfyJob):
    """One clip under videos/<workspace>/<job>/: the video file ComfyUI saved, or its frames
    joined at the payload's fps."""

    run_share = 0.85  # joining frames takes longer than storing images

    def find_template(self, name: str) -> WorkflowTemplate:
        return find_video_template(name)

    def wanted(self, result: PromptResult) -> list[OutputFile]:
        videos = [f for f in result.files() if _is_video(f)]
        frames = [f for f in result.files() if not _is_video(f) and f.kind == "images"
                  and f.type == "output"]
        if not videos and not frames:
            raise JobFailed("ComfyUI finished but saved no video and no frames; does the "
                            "workflow end in a save node?")
        return videos[:1] or frames

    def store(self, run: ComfyRun) -> VideoResult:
        """The clip in the store, its probe on the Asset."""
        assembled = not _is_video(run.downloads[0][0])
        key, path = self._join(run.downloads) if assembled else self._keep(run.downloads[0])
        info = probe(path)
        # Joined frames have no rate in the graph: the recipe keeps the one they were joined at.
        recipe = {**run.recipe({**run.values, "fps": self._fps()} if assembled else run.values),
                  **recipe_models(run.template, run.workflow)}
        asset = Asset(kind="video", storage_key=key, job_id=self.ctx.job_id,
                      influencer_id=self.influencer_id(),
                      sha256=sha256_file(path), size_bytes=info.size_bytes,
                      meta={"recipe": recipe, "probe": info.as_dict(), "duration_s": info.duration_s,
                            "width": info.video.width if info.video else 0,
                            "height": info.video.height if info.video else 0,
                            "frames_joined": len(run.downloads) if assembled else 0,
                            "source_image": run.values.get("input_image"),
                            "path": str(path)})
        [asset_id] = self.add_assets([asset])
        return VideoResult(assets=(asset_id,), output=AssetKey(key),
                           prompt_id=run.result.prompt_id, seed=run.workflow.seed)

    def _fps(self) -> float:
        return self.payload.fps if isinstance(self.payload, VideoPayload) else DEFAULT_FPS

    def _folder(self) -> str:
        return f"videos/{self.ctx.workspace_id}/{self.ctx.job_id}"

    def _keep(self, download: tuple[OutputFile, bytes]) -> tuple[str, Path]:
        output, data = download
        key = f"{self._folder()}/{safe_file_name(output.filename)}"
        return key, LocalStore(self.ctx.paths.assets_dir).put_bytes(data, key).path

    def _join(self, downloads: Downloads) -> tuple[str, Path]:
        """An image sequence joined into an H.264 clip at the payload's frame rate."""
        stem = Path(safe_file_name(downloads[0][0].filename)).stem.rstrip("_0123456789")
        key = f"{self._folder()}/{stem or 'clip'}.mp4"
        target = LocalStore(self.ctx.paths.assets_dir).path(key)
        fps = self._fps()
        with tempfile.TemporaryDirectory(prefix="studio-frames-") as tmp:
            paths = []
            for index, (output, data) in enumerate(downloads):
                path = Path(tmp) / f"{index:05d}{PurePosixPath(output.filename).suffix.lower()}"
                path.write_bytes(data)
                paths.append(path)
            self.ctx.progress(self.run_share, stage="Joining frames", message=f"{len(paths)} frames")
            assemble_frames(self.ctx.settings, paths, fps, target, cancel=self.ctx.is_canceled)
        return key, target


def run_video_generation(ctx: JobContext, payload: VideoPayload) -> VideoResult:
    result: VideoResult = VideoJob(ctx, payload).run()
    return result


def _is_video(output: OutputFile) -> bool:
    suffix = PurePosixPath(output.filename).suffix.lower()
    return output.kind == "gifs" or (output.animated and suffix in VIDEO_SUFFIXES) or suffix in (
        ".mp4", ".webm", ".mov", ".mkv")
