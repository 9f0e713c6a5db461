"""A musubi-tuner training request made concrete: config, folder, every stage's command, checks.

The same answer as plan.plan_training gives for sd-scripts (a TrainingPlan, so the dry run,
the Training page and submit_training read it alike), plus ``stages``: the three commands in
the order they run; ``argv`` is the training's own. Presets name musubi-tuner's options in
``[options]`` and their model files in ``[models.<role>]`` (option, file, size_bytes, folder,
source, label); the user gives a file's path with ``--set dit=/models/…`` under the option's
name, which also replaces any other option of the preset.
"""
from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.engine.datasets.export import dataset_version, folder_name, select_images
from studio.engine.datasets.tags import trigger_present
from studio.engine.errors import InvalidInput
from studio.engine.parts import StudioParts
from studio.engine.training.checks import Findings, detect_vram_gb
from studio.engine.training.command import DatasetSource, TrainingFiles, plan_steps
from studio.engine.training.config import STUDIO_KEYS, TrainingConfig, field_names, get_preset
from studio.engine.training.family_checks import check_model_files
from studio.engine.training.musubi import FAMILIES as MUSUBI_SPECS
from studio.engine.training.musubi import SHARED_FLAGS, SHARED_VALUES, Stage, model_options, musubi_stages
from studio.engine.training.musubi_dataset import (
    VIDEO_FAMILIES,
    MusubiData,
    dataset_config_text,
    preset_table,
    video_settings,
)
from studio.engine.training.musubi_env import layout_problems, resolve_musubi
from studio.engine.training.plan import TrainingPlan, TrainingRequest, _load, _output_name, training_root

CLIP_SUFFIXES = (".mp4", ".webm", ".mov")
STARTUP_S = 180.0  # loading a 14–20B model, before the first step
STEP_S = {"qwen_image": 4.0, "wan22_14b": 9.0}  # at 1024² / 480p 33 frames on a 24 GB card
RESERVED = {
    "dataset_config": "the studio writes the training's dataset config",
    "output_dir": "the studio saves into the training's own folder",
    "output_name": "use --name",
    "network_module": "the studio trains the family's LoRA module",
    "resume": "musubi-tuner runs are started over by `train resume JOB`",
}
SHARED = SHARED_VALUES + SHARED_FLAGS


@dataclass(frozen=True, slots=True)
class MusubiPlan(TrainingPlan):
    stages: tuple[Stage, ...] = ()


def with_preset_options(config: TrainingConfig, slug: str) -> TrainingConfig:
    """The preset file's ``[options]`` under the config's own extra options (``--set`` wins)."""
    pairs: dict[str, tuple[str, ...]] = {}
    for name, value in preset_table(slug, "options").items():
        if value is True:
            pairs[name] = ()
        elif value is not False:
            pairs[name] = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
    pairs.update({name: tuple(tokens) for name, tokens in config.extra_options})
    return dataclasses.replace(config, extra_options=tuple(pairs.items()))


def _overrides(config: TrainingConfig, overrides: dict[str, object]) -> TrainingConfig:
    """``--set``: typed settings by their field, anything else as a musubi-tuner option
    (true: a flag, false: left out, else its value; passed as given, musubi's parser checks)."""
    # Options musubi-tuner shares with a typed setting stay options, so --set replaces the preset's.
    typed = {k: v for k, v in overrides.items() if k in field_names() and k not in SHARED}
    config = config.with_values(typed)
    pairs = dict(config.extra_options)
    for name, raw in overrides.items():
        if name in typed or name in STUDIO_KEYS:
            continue
        if name in RESERVED:
            raise InvalidInput(f"'{name}' cannot be set: {RESERVED[name]}.")
        text = str(raw).strip()
        if raw is True or text.lower() in ("", "true", "yes", "on", "1"):
            pairs[name] = ()
        elif raw is False or text.lower() in ("false", "no", "off", "0"):
            pairs.pop(name, None)
        else:
            pairs[name] = tuple(text.split()) if name.endswith("_args") else (text,)
    return dataclasses.replace(config, extra_options=tuple(pairs.items()))


def with_comfyui_models(config: TrainingConfig, slug: str, comfyui_folder: str) -> TrainingConfig:
    """Model files not given with --set, taken from ComfyUI's models folder when the preset's
    file is there (``<comfyui.folder>/models/<folder>/<file>``): creators who generate with
    these models already keep them there."""
    if not comfyui_folder.strip():
        return config
    given, pairs = model_options(config), dict(config.extra_options)
    for role, raw in preset_table(slug, "models").items():
        option = str(raw.get("option", role)) if isinstance(raw, dict) else role
        if option in given or not isinstance(raw, dict):
            continue
        found = Path(comfyui_folder).expanduser() / "models" / str(raw.get("folder", "")) / str(raw.get("file", ""))
        if found.is_file():
            pairs[option] = (str(found),)
    return dataclasses.replace(config, extra_options=tuple(pairs.items()))


def model_problems(config: TrainingConfig, slug: str) -> list[str]:
    """Each model file the preset needs that is not given or not there, in one sentence."""
    given = model_options(config)
    problems = []
    for role, raw in preset_table(slug, "models").items():
        if not isinstance(raw, dict):
            continue
        option, label = str(raw.get("option", role)), str(raw.get("label") or role)
        where = (f"put {raw.get('file', 'it')} (from {raw.get('source', 'its authors')}) in ComfyUI's "
                 f"models/{raw.get('folder', '')} folder or pass --set {option}=PATH")
        path = given.get(option)
        if path is None:
            problems.append(f"{label} is not set: {where}.")
        elif not path.expanduser().is_file():
            problems.append(f"{label} {path} does not exist: {where}.")
    return problems


def plan_musubi(studio: StudioParts, workspace_id: uuid.UUID, request: TrainingRequest, *,
                gpu_gb: Callable[[], float | None] | None = None) -> MusubiPlan:
    influencer, dataset, images = _load(studio, workspace_id, request)
    chosen, _, _ = select_images(images, include_excluded=False, include_near_duplicates=False)
    config = with_preset_options(get_preset(request.preset).config, request.preset)
    if config.family not in MUSUBI_SPECS:
        raise InvalidInput(f"musubi-tuner (commit 30c658c) cannot train {config.family}: its Wan trainer "
                           "takes the 14B models only (wan_train_network.py has no ti2v-5B task).")
    config = _overrides(config, request.overrides)
    config = with_comfyui_models(config, request.preset, studio.settings.comfyui.folder)
    name = _output_name(studio.paths, workspace_id, request.name, influencer, dataset)
    files = TrainingFiles(training_root(studio.paths, workspace_id) / name)
    folder = studio.settings.musubi.folder.strip()
    if not folder:
        raise InvalidInput("Where is musubi-tuner? Set musubi.folder in Settings (Training tools) to "
                           "your kohya musubi-tuner folder.")
    launch = resolve_musubi(Path(folder), studio.settings.musubi.python)
    trigger = influencer.trigger_word
    clips = sum(1 for image in chosen if image.storage_key.lower().endswith(CLIP_SUFFIXES))
    source = DatasetSource(
        image_dir=files.dataset_dir / "img" / folder_name(dataset.repeats, trigger, dataset.class_token,
                                                          dataset.name),
        images=len(chosen), repeats=dataset.repeats,
        class_tokens=" ".join(t for t in (trigger, dataset.class_token) if t), trigger=trigger)
    video = video_settings(preset_table(request.preset, "dataset")) if config.family in VIDEO_FAMILIES else None
    data = MusubiData(folder=source.image_dir, images=len(chosen) - clips, clips=clips,
                      repeats=config.num_repeats or dataset.repeats, cache_dir=files.root / "cache")
    steps = plan_steps(config, source.images, config.num_repeats or source.repeats)
    findings = _findings(config, request.preset, launch_problems=layout_problems(launch, config.family),
                         data=data, gpu=(gpu_gb or detect_vram_gb)())
    _trigger_warning([image.caption for image in chosen], trigger, findings)
    stages = musubi_stages(config, launch, files, name)
    return MusubiPlan(
        request=request, config=config, launch=launch, files=files, output_name=name, source=source,
        steps=steps, argv=list(stages[-1].argv), dataset_config=dataset_config_text(config, data, video),
        sample_prompts="", findings=findings,
        estimate_s=STARTUP_S + steps.total_steps * STEP_S.get(config.family, 6.0),
        dataset_version=dataset_version(images), influencer_name=influencer.name,
        dataset_name=dataset.name, stages=stages)


def _findings(config: TrainingConfig, slug: str, *, launch_problems: list[str], data: MusubiData,
              gpu: float | None) -> Findings:
    found = Findings()
    if data.images + data.clips == 0:
        found.problems.append("The dataset has no pictures or clips to train on (all excluded, "
                              "duplicates or none imported).")
    if config.family in VIDEO_FAMILIES and data.clips == 0 and data.images:
        found.warnings.append("No clips in the dataset: a Wan LoRA trained on pictures alone learns "
                              "the look, not motion. Add short clips (mp4, webm, mov) for a motion LoRA.")
    found.problems += launch_problems
    check_model_files(config, get_preset(slug).models, found)  # given, there, about the usual size
    if config.resolution % 16 or not 256 <= config.resolution <= 2048:
        found.problems.append(f"The resolution {config.resolution} must be a multiple of 16 from 256 to 2048.")
    if gpu is None:
        found.warnings.append("No NVIDIA GPU was detected here; the training needs one where the worker runs.")
    elif gpu + 1.0 < config.vram_gb:
        found.problems.append(_vram_problem(config, gpu))
    return found


def _vram_problem(config: TrainingConfig, gpu: float) -> str:
    options = dict(config.extra_options)
    hints = []
    if "fp8_base" not in options and not getattr(config, "fp8_base", False):
        hints.append("fp8_base=true with fp8_scaled=true (the model in 8 bits)")
    hints.append("blocks_to_swap=N (keeps N blocks in main memory: 16 saves ~6 GB, more saves more "
                 "but runs slower and needs 64 GB of RAM)")
    return (f"This setup needs a GPU with {config.vram_gb} GB; the one here has {gpu:.0f} GB. Try "
            f"--set {' or --set '.join(hints)}, or a preset for less VRAM.")


def _trigger_warning(captions: list[str], trigger: str, found: Findings) -> None:
    written = [c for c in captions if c.strip()]
    missing = sum(1 for c in written if not trigger_present(c, trigger))
    if trigger and missing:
        found.warnings.append(f"{missing} of {len(written)} captions lack the trigger word '{trigger}': "
                              "musubi-tuner trains on the captions, so the LoRA would not learn it.")
