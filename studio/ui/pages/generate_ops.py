"""What the Generate page asks of the engine: blocking calls, run on background lanes only.

Each takes the page's context and returns plain values the UI thread can show. The generation
and gallery modules are imported inside the functions: they are the engine's, and heavy.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.comfyui.gallery import GalleryFilter, GalleryRow, gallery_rows
from studio.engine.comfyui.local import ComfyState
from studio.engine.comfyui.supervisor import comfy_url
from studio.engine.comfyui.workflows import LoadedTemplates, WorkflowTemplate
from studio.engine.influencers import list_influencers
from studio.ui.context import StudioContext
from studio.ui.widgets.parameter_form import COMBO_INPUTS


@dataclass(frozen=True, slots=True)
class Influencer:
    id: uuid.UUID
    name: str
    trigger: str


@dataclass(frozen=True, slots=True)
class PreviewFrame:
    """A running job's latest preview frame; a new frame has a new stamp (its mtime)."""

    path: Path
    stamp: float


def influencers(context: StudioContext) -> list[Influencer]:
    return [Influencer(i.id, i.name, i.trigger_word)
            for i in list_influencers(context.studio, context.workspace_id)]


def templates(context: StudioContext) -> LoadedTemplates:
    from studio.engine.comfyui.user_workflows import all_templates
    return all_templates(context.studio.paths)


@dataclass(frozen=True, slots=True)
class WorkflowDraft:
    """A workflow file read for the mapping dialog: its graph and the parameters proposed."""

    source: Path
    graph: dict[str, Any]
    name: str
    mapping: dict[str, str | list[str]]
    editing: bool  # an existing user workflow, saved over itself


def read_workflow(path: Path) -> WorkflowDraft:
    """A new file: parameters guessed from its node types (refuses a UI-format export)."""
    from studio.engine.comfyui.workflow_mapping import guess_parameters
    from studio.engine.comfyui.workflows import read_graph
    graph = read_graph(path)
    return WorkflowDraft(path, graph, path.stem, guess_parameters(graph), editing=False)


def edit_workflow(template: WorkflowTemplate) -> WorkflowDraft:
    from studio.engine.comfyui.workflow_mapping import mapping_of
    assert template.path is not None
    return WorkflowDraft(template.path, template.graph, template.name, mapping_of(template), editing=True)


def save_workflow(context: StudioContext, draft: WorkflowDraft, name: str,
                  mapping: dict[str, str | list[str]]) -> WorkflowTemplate:
    from studio.engine.comfyui.user_workflows import add_workflow
    return add_workflow(context.studio.paths, draft.source, name=name, mapping=mapping)


def comfy_choices(context: StudioContext, template: WorkflowTemplate) -> dict[str, list[str]]:
    """What ComfyUI offers for the template's combo parameters, by parameter name.

    Raises one sentence (an InvalidInput) when ComfyUI cannot be reached.
    """
    from studio.engine.comfyui.generation import fetch_object_info
    from studio.engine.comfyui.validation import choices

    info = fetch_object_info(comfy_url(context.studio.settings))
    found: dict[str, list[str]] = {}
    for name, param in template.parameters.items():
        node = template.graph.get(param.node, {})
        if param.input not in COMBO_INPUTS and param.type != "image":
            continue
        options = choices(info, node.get("class_type", ""), param.input)
        if options is not None:
            found[name] = [str(o) for o in options]
    return found


def submit(context: StudioContext, influencer_id: uuid.UUID | None, template: str,
           values: dict[str, object], count: int) -> list[uuid.UUID]:
    from studio.engine.comfyui.generation import GenerationRequest, submit_generation

    start_local_comfyui(context)
    request = GenerationRequest(influencer_id=influencer_id, template=template, values=values,
                                count=count)
    return [job.id for job in submit_generation(context.studio, context.workspace_id, request)]


def start_local_comfyui(context: StudioContext) -> None:
    """The worker starts the local ComfyUI when one is configured and does not answer yet, so it
    belongs to the worker (which stops it on exit), never to the window."""
    from studio.engine.comfyui import local
    from studio.engine.comfyui.supervisor import ComfySupervisor
    studio = context.studio
    if ComfySupervisor.configured(studio.settings) and not local.read_state(
            studio.settings, studio.paths, lines=0).answers:
        local.ask_worker(studio, context.workspace_id, local.START_JOB)


def stop_local_comfyui(context: StudioContext) -> None:
    from studio.engine.comfyui import local
    local.ask_worker(context.studio, context.workspace_id, local.STOP_JOB)


def comfy_state(context: StudioContext) -> ComfyState:
    from studio.engine.comfyui.local import read_state
    return read_state(context.studio.settings, context.studio.paths)


def preview_frame(context: StudioContext, job_id: uuid.UUID) -> PreviewFrame | None:
    """The running job's preview frame file, when it has written one (read when the job hub
    reports the job changed, never on a timer)."""
    from studio.engine.comfyui.job import preview_file

    path = preview_file(context.studio.paths.cache_dir, job_id)
    try:
        return PreviewFrame(path, path.stat().st_mtime)
    except OSError:
        return None


def previews_dir(context: StudioContext) -> Path:
    """Where running jobs write their preview frames (one file per job)."""
    from studio.engine.comfyui.job import preview_file
    return preview_file(context.studio.paths.cache_dir, "frame").parent


def cancel(context: StudioContext, job_ids: list[uuid.UUID]) -> int:
    from studio.engine.errors import InvalidInput

    canceled = 0
    for job_id in job_ids:
        try:
            context.studio.jobs.cancel(context.workspace_id, job_id)
            canceled += 1
        except InvalidInput:  # finished meanwhile
            pass
    return canceled


def rows(context: StudioContext, spec: GalleryFilter) -> list[GalleryRow]:
    return gallery_rows(context.studio, workspace_id=context.workspace_id, spec=spec)


def rows_of_jobs(context: StudioContext, job_ids: list[uuid.UUID]) -> list[GalleryRow]:
    found: list[GalleryRow] = []
    for job_id in job_ids:
        found.extend(rows(context, GalleryFilter(job_id=job_id)))
    return found


def loras(context: StudioContext) -> list[str]:
    """LoRA names that generated images in this workspace used, for the gallery's filter."""
    names = {row.lora for row in rows(context, GalleryFilter())}
    return sorted(n for n in names if n)


def set_rating(context: StudioContext, asset_id: uuid.UUID, rating: int) -> None:
    from studio.engine.comfyui import gallery
    gallery.set_rating(context.studio, context.workspace_id, asset_id, rating)


def set_favourite(context: StudioContext, asset_id: uuid.UUID, on: bool) -> None:
    from studio.engine.comfyui import gallery
    gallery.set_favourite(context.studio, context.workspace_id, asset_id, on)


def rerun(context: StudioContext, asset_id: uuid.UUID) -> uuid.UUID:
    from studio.engine.comfyui import gallery
    return gallery.rerun(context.studio, context.workspace_id, asset_id, new_seed=True).id


def trash(context: StudioContext, asset_id: uuid.UUID) -> None:
    from studio.engine.comfyui import gallery
    gallery.trash_image(context.studio, context.workspace_id, asset_id)


def recipe(context: StudioContext, asset_id: uuid.UUID) -> dict[str, Any]:
    from studio.engine.comfyui import gallery
    return dict(gallery.recipe(gallery.get_image(context.studio, context.workspace_id, asset_id)))


@dataclass(frozen=True, slots=True)
class StillExportChoices:
    source: Path
    presets: list[Any]  # ExportPreset
    folder: Path


def still_export_choices(context: StudioContext, asset_id: uuid.UUID) -> StillExportChoices:
    """The picture's file, the platform presets, and where exports usually go."""
    from studio.engine.comfyui import gallery
    from studio.engine.media.presets import load_presets, user_presets_dir
    asset = gallery.get_image(context.studio, context.workspace_id, asset_id)
    source = Path(gallery.use_as_input(asset, context.studio))
    presets = list(load_presets(user_presets_dir(context.studio.paths.data_dir)).values())
    folder = Path.home() / "Pictures" / "InfluencerAI exports"
    return StillExportChoices(source, presets, folder)


def input_of(context: StudioContext, asset_id: uuid.UUID) -> Path:
    """The image as a local file an image-to-image template can take."""
    from studio.engine.comfyui import gallery
    asset = gallery.get_image(context.studio, context.workspace_id, asset_id)
    return Path(gallery.use_as_input(asset, context.studio))
