"""Checks for the model families beyond SD 1.5/SDXL: the model files a preset needs, the options
that belong to one family, and what makes a setup fit a smaller GPU.

FLUX.1 and SD 3.5 load three or four files (the transformer, text encoders, an autoencoder),
each tens of seconds to read, so a missing or wrong one is named here before launch, with the
file a preset expects, its usual size, ComfyUI's folder for it and where its authors publish it.
Findings is passed in (checks.py owns it), so this module imports nothing from checks.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from studio.engine.training.config import ModelFile, TrainingConfig, model_path
from studio.engine.training.vram import MAX_SWAP, SD35_LARGE_BYTES

SIZE_SLACK = 0.10  # a file within 10 % of the usual size is taken as the right one
# Outside these factors no variant of the file fits (fp8 copies are half the size).
SIZE_WRONG = (0.45, 1.6)
DIT_FAMILIES = ("flux1", "sd35")
RESOLUTION_STEP = {"flux1": 16, "sd35": 16}  # 2×2 patches of an 8× latent; SD 1.5/SDXL: 64
BUCKET_STEP = {"flux1": 32, "sd35": 32}  # verify_bucket_reso_steps(32) in both scripts
TIMESTEP_SAMPLINGS = ("sigma", "uniform", "sigmoid", "shift", "flux_shift")
PREDICTION_TYPES = ("raw", "additive", "sigma_scaled")
WEIGHTING_SCHEMES = ("sigma_sqrt", "logit_normal", "mode", "cosmap", "none", "uniform")
# Settings one family's script has and the others' lack (the command leaves them out there).
ONLY_FOR = {"guidance_scale": "flux1", "timestep_sampling": "flux1", "model_prediction_type": "flux1",
            "discrete_flow_shift": "flux1", "ae": "flux1", "clip_g": "sd35", "training_shift": "sd35"}
DIT_ONLY = ("clip_l", "t5xxl", "weighting_scheme", "apply_t5_attn_mask", "blocks_to_swap", "fp8_base",
            "fp8_base_unet", "cache_text_encoder_outputs_to_disk")
FAMILY_NAMES = {"flux1": "FLUX.1", "sd35": "SD 3.5"}
FAMILY_FILES = {"flux1": ("clip_l", "t5xxl", "ae"), "sd35": ("clip_l", "clip_g", "t5xxl")}
# blocks_to_swap the scripts accept: FLUX.1 swaps pairs of its 19 double / 38 single blocks
# (up to 35, vram.MAX_SWAP); SD 3.5 all but two of its joint blocks (Medium 24, Large 38).
SD35_MEDIUM_MAX_SWAP = 22


class FindingsLike(Protocol):
    problems: list[str]
    warnings: list[str]


def size_text(size: int) -> str:
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{round(size / 1e6)} MB" if size >= 1e6 else f"{size} bytes"


def check_model_files(config: TrainingConfig, models: Mapping[str, ModelFile], found: FindingsLike) -> None:
    """Each file the preset needs is given, there, and about its usual size. Any family's
    preset (sd-scripts' or musubi-tuner's) names its files the same way."""
    for model in models.values():
        raw = model_path(config, model.option).strip()
        if not raw:
            found.problems.append(f"{_label(model)} is not set: give its file with --set "
                                  f"{_setting(model)}=PATH{_in_comfyui(model)} ({_where(model)}).")
            continue
        path = Path(raw).expanduser()
        if path.is_dir():
            found.problems.append(f"{_label(model)} must be a file ({model.file}), not the folder {path}.")
        elif not path.is_file():
            found.problems.append(f"{_label(model)} {path} does not exist ({_where(model)}).")
        else:
            _check_size(model, path, found)


def model_files_problem(config: TrainingConfig, *, missing_here: str = "") -> str | None:
    """The first model file given beside the base model (clip_l, t5xxl, …) that is not here:
    the job asks this on the machine that trains, as base_model_problem for the base."""
    for option in FAMILY_FILES.get(config.family, ()):
        raw = str(getattr(config, option) or "").strip()
        if raw and not Path(raw).expanduser().is_file():
            return f"The {option} file {Path(raw).expanduser()} does not exist{missing_here}."
    return None


def _check_size(model: ModelFile, path: Path, found: FindingsLike) -> None:
    size = path.stat().st_size
    ratio = size / max(1, model.size_bytes)
    if abs(ratio - 1) <= SIZE_SLACK:
        return
    said = (f"{path.name} is {size_text(size)}; {_label(model, start=False)} is about "
            f"{size_text(model.size_bytes)} ({model.file})")
    if not SIZE_WRONG[0] <= ratio <= SIZE_WRONG[1]:
        found.problems.append(f"{said} — is it the right file?")
    else:
        found.warnings.append(f"{said}: another variant (fp8?) than the preset expects; check it "
                              "is the file you meant.")


def _label(model: ModelFile, *, start: bool = True) -> str:
    text = model.label or f"The {model.role} model"
    return text[0].upper() + text[1:] if start else text


def _setting(model: ModelFile) -> str:
    return "base_model" if model.option == "pretrained_model_name_or_path" else model.option


def _in_comfyui(model: ModelFile) -> str:
    """The plan takes a file from ComfyUI's models folder (comfyui.folder) when it is there."""
    return f", or put {model.file} in ComfyUI's models/{model.folder} folder" if model.folder else ""


def _where(model: ModelFile) -> str:
    parts = [f"usually {model.file}, about {size_text(model.size_bytes)}"]
    if model.folder:
        parts.append(f"kept in ComfyUI's models/{model.folder}")
    if model.source:
        parts.append(f"published at {model.source}")
    return "; ".join(parts)


def check_family_options(config: TrainingConfig, found: FindingsLike) -> None:
    """Choices, ranges and combinations of the FLUX.1 / SD 3.5 options, and settings given for
    a family whose script does not have them (the command leaves them out)."""
    _check_misplaced(config, found)
    if config.family not in DIT_FAMILIES:
        return
    for name, value, allowed in (("timestep_sampling", config.timestep_sampling, TIMESTEP_SAMPLINGS),
                                 ("model_prediction_type", config.model_prediction_type, PREDICTION_TYPES),
                                 ("weighting_scheme", config.weighting_scheme, WEIGHTING_SCHEMES)):
        if value and value not in allowed:
            found.problems.append(f"{name} must be one of {', '.join(allowed)}, not '{value}'.")
    if (config.fp8_base or config.fp8_base_unet) and config.mixed_precision == "no":
        found.problems.append("fp8_base needs mixed_precision bf16 (or fp16); sd-scripts refuses it with 'no'.")
    if config.guidance_scale is not None and config.guidance_scale < 0:
        found.problems.append("guidance_scale cannot be negative (1.0 trains FLUX.1 dev without guidance).")
    _check_swap(config, found)


def _check_misplaced(config: TrainingConfig, found: FindingsLike) -> None:
    misplaced = [name for name, family in ONLY_FOR.items() if getattr(config, name) and config.family != family]
    if config.family not in DIT_FAMILIES:
        misplaced += [name for name in DIT_ONLY if getattr(config, name)]
    if misplaced:
        found.warnings.append(f"{', '.join(misplaced)} {'is' if len(misplaced) == 1 else 'are'} not "
                              f"used by {config.family} training and will not be passed.")


def _check_swap(config: TrainingConfig, found: FindingsLike) -> None:
    swap = config.blocks_to_swap
    if not swap:
        return
    top = _max_swap(config)
    if not 0 < swap <= top:
        found.problems.append(f"blocks_to_swap must be from 1 to {top} for {FAMILY_NAMES[config.family]} "
                              f"{_model_size_note(config)}, not {swap}.")
    if "cpu_offload_checkpointing" in dict(config.extra_options):
        found.problems.append("blocks_to_swap cannot be used with cpu_offload_checkpointing (sd-scripts "
                              "refuses it): keep one of them.")


def _max_swap(config: TrainingConfig) -> int:
    if config.family == "sd35":
        path = Path(config.base_model).expanduser()
        if path.is_file() and path.stat().st_size < SD35_LARGE_BYTES:
            return SD35_MEDIUM_MAX_SWAP
    return MAX_SWAP[config.family]


def _model_size_note(config: TrainingConfig) -> str:
    if config.family != "sd35":
        return ""
    return "Medium" if _max_swap(config) == SD35_MEDIUM_MAX_SWAP else "(Large; 22 for Medium)"
