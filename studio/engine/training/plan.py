"""A training request made concrete: the config, the folder, the command line, the checks.

``plan_training`` is what ``train --dry-run`` prints and what ``submit_training`` queues, so a
dry run shows exactly the command and dataset_config.toml the job will use. The folder name
(``training/<workspace>/<name>``) is decided here: by default ``<trigger>-<dataset>-v<N>``
with the first N not taken, so a dry run and the run after it agree.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.engine.config import Paths
from studio.engine.datasets.export import dataset_version, folder_name, select_images
from studio.engine.datasets.tags import trigger_present
from studio.engine.db.models import Dataset, DatasetImage, Influencer
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.parts import StudioParts
from studio.engine.training.checks import Findings, check_training, detect_vram_gb
from studio.engine.training.command import (
    DatasetSource,
    Launch,
    StepPlan,
    TrainingFiles,
    build_argv,
    dataset_config_text,
    plan_steps,
    resolve_launch,
    sample_prompts_text,
)
from studio.engine.training.config import MUSUBI_FAMILIES, Preset, TrainingConfig, field_names, get_preset, model_path
from studio.engine.training.script_options import (
    probe_findings,
    probe_for_plan,
    split_overrides,
    with_extra_options,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_SLUG = re.compile(r"[^a-z0-9]+")
STARTUP_S = 90.0  # loading the model and caching latents, before the first step
# Seconds per step at batch 1 on a typical card of the preset's class, at the family's size.
BASE_STEP_S = {"sd15": (0.45, 512), "sdxl": (1.3, 1024), "flux1": (3.0, 1024), "sd35": (1.2, 1024)}
SAMPLE_S = {"sd15": 4.0, "sdxl": 12.0, "flux1": 40.0, "sd35": 15.0}
# ComfyUI's model folders as presets name them, with the names older ComfyUI versions used.
COMFYUI_FOLDERS = {"diffusion_models": ("diffusion_models", "unet"), "text_encoders": ("text_encoders", "clip")}
SWAP_SLOWDOWN = 0.02  # each block swapped to system memory costs about 2 % more per step


@dataclass(frozen=True, slots=True)
class TrainingRequest:
    influencer_id: uuid.UUID
    dataset_id: uuid.UUID
    preset: str
    overrides: dict[str, object] = field(default_factory=dict)
    sd_scripts: str = ""  # the checkout; empty: settings sdscripts.folder
    name: str = ""  # the output name; empty: <trigger>-<dataset>-v<N>
    hand_off: bool = False  # place the final LoRA in ComfyUI's loras folder


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    request: TrainingRequest
    config: TrainingConfig
    launch: Launch
    files: TrainingFiles
    output_name: str
    source: DatasetSource
    steps: StepPlan
    argv: list[str]
    dataset_config: str
    sample_prompts: str
    findings: Findings
    estimate_s: float
    dataset_version: str
    influencer_name: str
    dataset_name: str


def training_root(paths: Paths, workspace_id: uuid.UUID) -> Path:
    return paths.data_dir / "training" / str(workspace_id)


def plan_training(studio: StudioParts, workspace_id: uuid.UUID, request: TrainingRequest, *,
                  gpu_gb: Callable[[], float | None] | None = None) -> TrainingPlan:
    if get_preset(request.preset).config.family in MUSUBI_FAMILIES:  # its own stages and checks
        from studio.engine.training.musubi_plan import plan_musubi
        return plan_musubi(studio, workspace_id, request, gpu_gb=gpu_gb)
    influencer, dataset, images = _load(studio, workspace_id, request)
    chosen, _, _ = select_images(images, include_excluded=False, include_near_duplicates=False)
    typed, extra = split_overrides(request.overrides)
    preset = get_preset(request.preset)
    config = preset.config.with_values(typed)
    name = _output_name(studio.paths, workspace_id, request.name, influencer, dataset)
    files = TrainingFiles(training_root(studio.paths, workspace_id) / name)
    folder = request.sd_scripts.strip() or studio.settings.sdscripts.folder.strip()
    if not folder:
        raise InvalidInput("Where is sd-scripts? Set sdscripts.folder or pass --sd-scripts DIR.")
    launch = resolve_launch(Path(folder), studio.settings.sdscripts.python)
    probe = probe_for_plan(launch, config.family, studio.paths.cache_dir)  # cached: instant the 2nd time
    config = with_extra_options(_with_comfyui_models(config, preset, studio.settings.comfyui.folder), extra, probe)
    trigger = influencer.trigger_word
    source = DatasetSource(
        image_dir=files.dataset_dir / "img" / folder_name(dataset.repeats, trigger, dataset.class_token,
                                                          dataset.name),
        images=len(chosen), repeats=dataset.repeats,
        class_tokens=" ".join(t for t in (trigger, dataset.class_token) if t), trigger=trigger)
    steps = plan_steps(config, source.images, config.num_repeats or source.repeats)
    findings = check_training(config, images=source.images, launch=launch, gpu_gb=(gpu_gb or detect_vram_gb)(),
                              models=preset.models)
    _check_trigger_in_captions([image.caption for image in chosen], trigger, findings)
    probe_findings(probe, config, list(extra), findings)
    return TrainingPlan(
        request=request, config=config, launch=launch, files=files, output_name=name, source=source,
        steps=steps, argv=build_argv(config, launch, files, name),
        dataset_config=dataset_config_text(config, source),
        sample_prompts=sample_prompts_text(config, trigger), findings=findings,
        estimate_s=estimate_seconds(config, steps), dataset_version=dataset_version(images),
        influencer_name=influencer.name, dataset_name=dataset.name)


def _with_comfyui_models(config: TrainingConfig, preset: Preset, comfyui_folder: str) -> TrainingConfig:
    """Model files the user did not name, taken from ComfyUI's models folder when the preset's
    file is there (``<comfyui.folder>/models/<folder>/<file>``, or the folder's older name):
    creators who generate with FLUX.1 or SD 3.5 already keep them there."""
    if not comfyui_folder.strip():
        return config
    found: dict[str, object] = {}
    for model in preset.models.values():
        setting = "base_model" if model.option == "pretrained_model_name_or_path" else model.option
        if setting not in field_names() or model_path(config, model.option).strip():
            continue  # another tool's option (musubi-tuner plans its own), or named by the user
        for folder in COMFYUI_FOLDERS.get(model.folder, (model.folder,)):
            path = Path(comfyui_folder).expanduser() / "models" / folder / model.file
            if path.is_file():
                found[setting] = str(path)
                break
    return config.with_values(found) if found else config


def _check_trigger_in_captions(captions: list[str], trigger: str, found: Findings) -> None:
    """sd-scripts reads a picture's caption file instead of the folder's class tokens, so a
    trigger word missing from the captions is never learnt."""
    written = [caption for caption in captions if caption.strip()]
    missing = sum(1 for caption in written if not trigger_present(caption, trigger))
    if trigger and missing:
        found.warnings.append(
            f"{missing} of {len(written)} captions lack the trigger word '{trigger}': sd-scripts trains "
            "on the captions, so the LoRA would not learn it. Add it on the Datasets page (Batch "
            "edit… → Insert the trigger word).")


def estimate_seconds(config: TrainingConfig, steps: StepPlan) -> float:
    """A first guess for the whole run: steps at the family's usual speed, scaled by batch and
    pixels, plus start-up and samples."""
    per_step, size = BASE_STEP_S.get(config.family, BASE_STEP_S["sd15"])
    scale = config.train_batch_size * (config.resolution / size) ** 2
    if config.gradient_checkpointing:
        scale *= 1.25
    scale *= 1 + SWAP_SLOWDOWN * (config.blocks_to_swap or 0)
    samples = 0
    if config.sample_every_n_steps and config.sample_prompts:
        samples = steps.total_steps // config.sample_every_n_steps * len(config.sample_prompts)
    return STARTUP_S + steps.total_steps * per_step * scale + samples * SAMPLE_S.get(config.family, 4.0)


def _load(studio: StudioParts, workspace_id: uuid.UUID,
          request: TrainingRequest) -> tuple[Influencer, Dataset, list[DatasetImage]]:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        influencer = repo.get(Influencer, request.influencer_id)
        dataset = repo.get(Dataset, request.dataset_id)
        if dataset.influencer_id != influencer.id:
            raise InvalidInput(f"The dataset '{dataset.name}' belongs to another influencer.")
        images = list(repo.list(DatasetImage, dataset_id=dataset.id,
                                order_by=(DatasetImage.created_at)))
        return influencer, dataset, images


def _output_name(paths: Paths, workspace_id: uuid.UUID, given: str, influencer: Influencer,
                 dataset: Dataset) -> str:
    root = training_root(paths, workspace_id)
    if given:
        name = given.strip()
        if not _NAME.match(name):
            raise InvalidInput(f"'{given}' cannot name a LoRA file: use letters, digits, '-', '_' "
                               "or '.', at most 80 characters.")
        if (root / name).exists():
            raise InvalidInput(f"A training named '{name}' already exists; choose another name.")
        return name
    stem = "-".join(s for s in (_slug(influencer.trigger_word or influencer.name), _slug(dataset.name)) if s)
    number = 1
    while (root / f"{stem or 'lora'}-v{number}").exists():
        number += 1
    return f"{stem or 'lora'}-v{number}"


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:40]
