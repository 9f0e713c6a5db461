"""Images through ComfyUI: ``submit_generation`` queues "generate-image" jobs, a worker runs them.

Submitting checks the filled workflow against ComfyUI's /object_info first (Decision 10), so a
missing checkpoint, LoRA or node pack is one sentence now, not a failed job later. The job
(``ImageJob``, on the ComfyUI job base in ``job.py``) uploads its input images, follows the
prompt, and keeps every output in the asset store with the full recipe on each Asset.

The generation queue runs 3 jobs at a time, so ComfyUI's own queue always holds the next prompt
and the GPU never waits for the studio between two images.
"""
from __future__ import annotations

import io
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from studio.engine.comfyui.client import ComfyClient, ComfyRejected, ComfyUnavailable
from studio.engine.comfyui.identity import picture_identity, reference_of
from studio.engine.comfyui.job import (
    ComfyJob,
    ComfyPayload,
    ComfyRun,
    image_values,
    is_local,
    preview_file,
    safe_file_name,
)
from studio.engine.comfyui.loras import hand_off, loras_folder
from studio.engine.comfyui.node_cache import node_catalogue
from studio.engine.comfyui.recipe_file import with_recipe
from studio.engine.comfyui.supervisor import comfy_url, supervisor_for
from studio.engine.comfyui.user_workflows import all_templates
from studio.engine.comfyui.validation import WorkflowInvalid, check, choices
from studio.engine.comfyui.workflow_fill import fill
from studio.engine.comfyui.workflows import RANDOM_SEED_LIMIT, FilledWorkflow, WorkflowTemplate, load_templates
from studio.engine.config import Paths
from studio.engine.core import Studio
from studio.engine.db.models import Asset, Influencer, Job
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.inputs import import_input
from studio.engine.jobs.payloads import AssetKey
from studio.engine.jobs.registry import job_type
from studio.engine.loras.library import refuse_other_family
from studio.engine.storage.local import LocalStore

JOB_TYPE = "generate-image"
MAX_COUNT = 100

# is_local, preview_file and safe_file_name live in job.py; callers have long found them here.
__all__ = ["JOB_TYPE", "MAX_COUNT", "ComfyNotAnswering", "ComfyPayload", "GenerationRequest",
           "ImageJob", "ImageResult", "check_on_comfyui", "fetch_object_info", "find_template", "is_local",
           "picture_key", "prepare_generation", "preview_file", "reach_comfyui", "run_generation",
           "safe_file_name", "submit_generation"]


class ComfyNotAnswering(InvalidInput):
    """ComfyUI could not be reached when a generation was submitted; nothing was queued."""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    influencer_id: uuid.UUID | None
    template: str
    values: dict[str, object]  # by the template's parameter names; an image is a file's path,
    count: int = 1              # an asset key, or a name in ComfyUI's input folder


@dataclass(frozen=True, slots=True)
class ImageResult:
    assets: tuple[uuid.UUID, ...]
    prompt_id: str
    seed: int | None


# Submitting ------------------------------------------------------------------------------------

def submit_generation(studio: Studio, workspace_id: uuid.UUID, request: GenerationRequest) -> list[Job]:
    """One job per image wanted, each with its own seed; checked against ComfyUI before queueing."""
    return studio.jobs.submit_many(workspace_id, JOB_TYPE, prepare_generation(studio, workspace_id, request))


def reach_comfyui(studio: Studio, classes: Iterable[str] | None = None, *,
                  fresh: bool = False) -> dict[str, Any]:
    """ComfyUI's node catalogue, a supervised local ComfyUI started first if it is not up; kept
    per server start in the studio's cache (see node_cache), ``classes`` read afresh."""
    supervisor = supervisor_for(studio.settings, studio.paths.logs_dir)
    if supervisor is not None:
        supervisor.ensure_running()
    return fetch_object_info(comfy_url(studio.settings), classes=classes,
                             cache_dir=studio.paths.cache_dir, fresh=fresh)


def prepare_generation(studio: Studio, workspace_id: uuid.UUID, request: GenerationRequest,
                       object_info: dict[str, Any] | None = None) -> list[tuple[object, str]]:
    """The checked payloads and titles ``submit_generation`` queues, not yet queued, so a caller
    with many requests (the test grid) checks them all before it queues any; ``object_info`` is
    ComfyUI's catalogue as ``reach_comfyui`` found it, asked for here when not given."""
    if not 1 <= request.count <= MAX_COUNT:
        raise InvalidInput(f"The number of images must be from 1 to {MAX_COUNT}, not {request.count}.")
    template = find_template(request.template, studio.paths)
    influencer = _influencer(studio, workspace_id, request.influencer_id)
    refuse_other_family(studio, workspace_id, lora_names(template, request.values), template.base,
                        template.name, comfy_folder=loras_folder(studio.settings))
    classes = {str(node.get("class_type")) for node in template.graph.values()}
    object_info = reach_comfyui(studio, classes) if object_info is None else object_info
    url = comfy_url(studio.settings)
    if _handed_off_lora(studio, workspace_id, request.values, object_info):
        object_info = reach_comfyui(studio, classes)  # ComfyUI lists the folder afresh
    images = _pictures(studio, workspace_id, template, request.values, object_info)
    values = {**request.values, **images}
    filled = [fill(template, {**values, **_seed_of(template, values, index)})
              for index in range(request.count)]
    check_on_comfyui(studio, [workflow.graph for workflow in filled], object_info)
    items: list[tuple[object, str]] = []
    for workflow in filled:
        recorded = _recorded(template, workflow, values)
        items.append((ComfyPayload(
            template=template.name, images=images, comfyui_url=url,
            values={k: v for k, v in recorded.items() if k not in images},
            influencer_id=influencer.id if influencer else None),
            _title(template, recorded, influencer)))
    return items


def check_on_comfyui(studio: Studio, graphs: list[dict[str, Any]], object_info: dict[str, Any]) -> None:
    """Refuses only by ComfyUI's map as it is now: a kept one may predate a node pack installed
    since (ComfyUI restarted with the same version and options), so a problem is looked at
    again against a fresh map before it is reported."""
    try:
        for graph in graphs:
            check(graph, object_info)
    except WorkflowInvalid:
        object_info = reach_comfyui(studio, fresh=True)
        for graph in graphs:
            check(graph, object_info)


def _handed_off_lora(studio: Studio, workspace_id: uuid.UUID, values: dict[str, object],
                     object_info: dict[str, Any]) -> bool:
    """A LoRA ComfyUI lacks but the studio holds (a trained one) is placed in its folder."""
    name = str(values.get("lora_name") or "")
    if not name or name in (choices(object_info, "LoraLoader", "lora_name") or [name]):
        return False
    return hand_off(studio, workspace_id, name) is not None


def lora_names(template: WorkflowTemplate, values: dict[str, object]) -> list[str]:
    """The LoRA files ``values`` choose: one per parameter that sets a loader's lora_name."""
    return [str(values[p.name]) for p in template.parameters.values()
            if values.get(p.name) and any(name == "lora_name" for _, name in p.targets)]


def find_template(name: str, paths: Paths | None = None) -> WorkflowTemplate:
    """A built-in template or, with ``paths``, one of the user's own workflows."""
    templates = (all_templates(paths) if paths is not None else load_templates()).templates
    if name not in templates:
        raise InvalidInput(f"There is no workflow template '{name}'; there are: "
                           f"{', '.join(sorted(templates)) or 'none'}.")
    return templates[name]


def fetch_object_info(url: str, *, classes: Iterable[str] | None = None,
                      cache_dir: Path | None = None, fresh: bool = False) -> dict[str, Any]:
    """ComfyUI's node catalogue, or one sentence saying it does not answer. The map is kept per
    server start (in ``cache_dir`` too when given); the node types that list a folder, among
    ``classes`` or all, are read afresh, so a model added since is offered (node_cache)."""
    try:
        with ComfyClient(url, timeout=10) as client:
            return node_catalogue(client, classes=classes, cache_dir=cache_dir, fresh=fresh)
    except ComfyUnavailable:
        raise ComfyNotAnswering(f"ComfyUI does not answer at {url}: start it or set "
                                "comfyui.url.") from None
    except ComfyRejected as exc:
        raise ComfyNotAnswering(f"{exc} Is {url} a ComfyUI server?") from None


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


def _pictures(studio: Studio, workspace_id: uuid.UUID, template: WorkflowTemplate,
              values: dict[str, object], object_info: dict[str, Any]) -> dict[str, AssetKey]:
    """Image parameters that name a file, as asset keys (the job uploads them): a file in the
    asset store by its key, one from outside copied in first. A name ComfyUI already has in its
    input folder stays a value."""
    images = {}
    for name, param in template.parameters.items():
        value = values.get(name)
        if param.type != "image" or value in (None, ""):
            continue
        key = picture_key(studio, workspace_id, str(value))
        if key is not None:
            images[name] = key
            continue
        node = template.graph.get(param.node, {})
        offered = choices(object_info, node.get("class_type", ""), param.input) or []
        if str(value) not in offered:
            # The title is a label ("Input image"), so it starts the sentence.
            raise InvalidInput(f"{param.title or name} '{value}' is not a file here nor an "
                               "image in ComfyUI's input folder.")
    return images


def picture_key(studio: Studio, workspace_id: uuid.UUID, value: str) -> AssetKey | None:
    """The asset key of a picture given as a path or as a key (a recipe names its input by key,
    so Regenerate submits the key again); None when it is neither."""
    path = Path(value).expanduser()
    if path.is_absolute() and path.is_file():
        return import_input(studio.paths.assets_dir, workspace_id, path)
    try:
        return AssetKey(value) if studio.asset_path(AssetKey(value)).is_file() else None
    except InvalidInput:
        return None


def _recorded(template: WorkflowTemplate, workflow: FilledWorkflow,
              given: dict[str, object]) -> dict[str, object]:
    """The values to fill the template with again: every value used, and what was asked where
    the graph shows none (lora_name "" removes the loader); pictures by asset key."""
    used = {k: v for k, v in workflow.values.items() if v is not None}
    asked = {k: v for k, v in given.items() if k in template.parameters and k not in used}
    return {**used, **asked, **image_values(template, given)}


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

class ImageJob(ComfyJob):
    """Every file the prompt saved becomes an Asset under images/<workspace>/<job>/."""

    def find_template(self, name: str) -> WorkflowTemplate:
        return find_template(name, self.ctx.paths)

    def store(self, run: ComfyRun) -> ImageResult:
        recipe = _recipe(run)
        store = LocalStore(self.ctx.paths.assets_dir)
        her = reference_of(self.ctx.db, self.ctx.workspace_id, self.influencer_id())
        folder = f"images/{self.ctx.workspace_id}/{self.ctx.job_id}"
        used: set[str] = set()
        assets = []
        for output, data in run.downloads:
            name = f"{folder}/{_unique(safe_file_name(output.filename), used)}"
            stored = store.put_bytes(with_recipe(data, recipe), name)  # the recipe travels with the file
            width, height = _size(data)
            assets.append(Asset(
                kind="video" if output.animated else "image", storage_key=stored.key,
                job_id=self.ctx.job_id, influencer_id=self.influencer_id(),
                sha256=stored.sha256, size_bytes=stored.size_bytes,
                meta={"recipe": recipe, "width": width, "height": height, "rating": 0,
                      "favourite": False,
                      "path": str(stored.path)}))  # so use_as_input works from the row alone
            if her is not None and not output.animated:  # how much it looks like her (clips: not scored)
                assets[-1].meta["identity"] = picture_identity(stored.path, her)
        asset_ids = self.add_assets(assets)
        return ImageResult(assets=tuple(asset_ids), prompt_id=run.result.prompt_id,
                           seed=run.workflow.seed)


@job_type(JOB_TYPE, queue="generation", payload=ComfyPayload, result=ImageResult)
def run_generation(ctx: JobContext, payload: ComfyPayload) -> ImageResult:
    result: ImageResult = ImageJob(ctx, payload).run()
    return result


def _recipe(run: ComfyRun) -> dict[str, Any]:
    """Everything needed to make the image again: the graph as sent and every parameter."""
    template, workflow = run.template, run.workflow
    return {**run.recipe(_recorded(template, workflow, run.values)), **recipe_models(template, workflow),
            "lora_strength": workflow.values.get("lora_strength")}


def recipe_models(template: WorkflowTemplate, workflow: FilledWorkflow) -> dict[str, Any]:
    """The models a picture or clip was made with, for its recipe: the main one (a checkpoint or
    a UNET/diffusion model file), the family and kind of the workflow, and every model file."""
    models = {key: name for key in template.models if (name := _model(template, workflow, key))}
    main = next((models[k] for k, slot in template.models.items() if slot.folder in MAIN_FOLDERS and k in models),
                None)
    return {"checkpoint": models.get("checkpoint"), "model": main, "family": template.base, "kind": template.kind,
            "models": models, "lora": models.get("lora")}


# Where the model a picture is made with lives: a whole checkpoint, or a UNET/diffusion model file.
MAIN_FOLDERS = ("checkpoints", "diffusion_models", "unet")


def _model(template: WorkflowTemplate, workflow: FilledWorkflow, key: str) -> str | None:
    slot = template.models.get(key)
    node = workflow.graph.get(slot.node) if slot else None  # a bypassed LoRA has no node
    value = node["inputs"].get(slot.input) if node and slot else None
    return value if isinstance(value, str) and value else None


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
