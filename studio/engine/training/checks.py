"""Refusing a training before it starts: every reason in one plain sentence.

Launching sd-scripts costs a minute of model loading before it notices most mistakes; these
checks catch them first. ``problems`` refuse, ``warnings`` are shown and let it run.
"""
from __future__ import annotations

import ast
import functools
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from studio.engine.errors import InvalidInput
from studio.engine.training.command import SCRIPTS, Launch
from studio.engine.training.config import FAMILIES, ModelFile, TrainingConfig
from studio.engine.training.family_checks import BUCKET_STEP, RESOLUTION_STEP, check_family_options
from studio.engine.training.family_checks import check_model_files as check_model_files  # for musubi presets
from studio.engine.training.vram import estimate_gb, fit_advice

PRECISIONS = ("no", "fp16", "bf16")
SAVE_PRECISIONS = ("float", "fp16", "bf16")
OPTIMIZERS = ("adamw", "adamw8bit", "pagedadamw8bit", "lion", "lion8bit", "pagedlion8bit",
              "sgdnesterov", "sgdnesterov8bit", "dadaptation", "dadaptadam", "dadaptlion",
              "dadaptadagrad", "dadaptsgd", "adafactor", "prodigy")
SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts",
              "polynomial", "adafactor")
SAMPLERS = ("ddim", "pndm", "lms", "euler", "euler_a", "heun", "dpm_2", "dpm_2_a", "dpmsolver",
            "dpmsolver++", "dpmsingle", "k_lms", "k_euler", "k_euler_a", "k_dpm_2", "k_dpm_2_a")
MODEL_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(slots=True)
class Findings:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def raise_if_any(self) -> None:
        if self.problems:
            more = f" ({len(self.problems) - 1} more: {' '.join(self.problems[1:])})" \
                if len(self.problems) > 1 else ""
            raise InvalidInput(self.problems[0] + more)


def check_training(config: TrainingConfig, *, images: int, launch: Launch | None,
                   gpu_gb: float | None, models: Mapping[str, ModelFile] | None = None) -> Findings:
    """``models``: the files the preset names (Preset.models); the base model alone without."""
    found = Findings()
    _check_data(config, images, found)
    if not any(m.option == "pretrained_model_name_or_path" for m in (models or {}).values()):
        _check_model(config, found)  # the preset names no base file: the general rule
    check_model_files(config, models or {}, found)
    _check_resolution(config, found)
    _check_numbers(config, found)
    _check_choices(config, found)
    _check_scheduler(config, found)
    _check_family_rules(config, found)
    check_family_options(config, found)
    _check_gpu(config, gpu_gb, found)
    if launch is not None:
        _check_launch(config, launch, found)
    return found


def _check_data(config: TrainingConfig, images: int, found: Findings) -> None:
    if images <= 0:
        found.problems.append("The dataset has no images to train on (all excluded, duplicates "
                              "or none imported).")
    elif images < 5:
        found.warnings.append(f"Only {images} image(s): a likeness usually needs 15 or more.")


def _check_model(config: TrainingConfig, found: Findings) -> None:
    problem = base_model_problem(config.base_model)
    if problem is not None:
        found.problems.append(problem)


def base_model_problem(raw: str, *, missing_here: str = "") -> str | None:
    """Why sd-scripts cannot load this base model, or None: it takes a .safetensors or .ckpt
    file, or a Diffusers folder (one with model_index.json). The pre-check and the training job
    both ask this, so the dry run cannot pass what the job refuses; ``missing_here`` ends the
    sentence for a model that is not there (the job names the machine)."""
    raw = raw.strip()
    if not raw:
        return ("No base model is set: give the checkpoint file to train on "
                "(base_model, e.g. --set base_model=/models/sd15.safetensors).")
    path = Path(raw).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            return f"The base model folder {path} is not a Diffusers model (no model_index.json)."
    elif not path.is_file():
        return f"The base model {path} does not exist{missing_here}."
    elif path.suffix.lower() not in MODEL_SUFFIXES:
        return f"The base model {path.name} is not a .safetensors or .ckpt file."
    return None


def _check_resolution(config: TrainingConfig, found: Findings) -> None:
    res, unit = config.resolution, RESOLUTION_STEP.get(config.family, 64)
    if res % unit:
        found.problems.append(f"The resolution {res} is not divisible by {unit} (try "
                              f"{max(unit, round(res / unit) * unit)}).")
    if not 256 <= res <= 2048:
        found.problems.append(f"The resolution {res} is outside 256–2048.")
    if config.enable_bucket:
        step, least = config.bucket_reso_steps, BUCKET_STEP.get(config.family, 8)
        if step <= 0 or step % least:
            found.problems.append(f"bucket_reso_steps must be a positive multiple of {least} for "
                                  f"{config.family} (64 is usual).")
            return
        for name in ("min_bucket_reso", "max_bucket_reso"):
            if getattr(config, name) % step:
                found.problems.append(f"{name} ({getattr(config, name)}) must be divisible by "
                                      f"bucket_reso_steps ({step}).")
        if not config.min_bucket_reso <= res <= config.max_bucket_reso:
            found.problems.append(f"The resolution {res} must lie between min_bucket_reso "
                                  f"({config.min_bucket_reso}) and max_bucket_reso ({config.max_bucket_reso}).")


def _check_numbers(config: TrainingConfig, found: Findings) -> None:
    if not 1 <= config.network_dim <= 1024:
        found.problems.append(f"network_dim must be from 1 to 1024, not {config.network_dim}.")
    if config.network_alpha <= 0:
        found.problems.append("network_alpha must be above 0.")
    elif config.network_alpha > config.network_dim:
        found.warnings.append(f"network_alpha {config.network_alpha:g} is above network_dim "
                              f"{config.network_dim}: the LoRA will learn very aggressively.")
    for name in ("learning_rate", "unet_lr", "text_encoder_lr"):
        value = getattr(config, name)
        if value is not None and not 0 < value < 1:
            found.problems.append(f"{name} must be above 0 and below 1, not {value:g}.")
    if config.max_train_epochs is not None and config.max_train_epochs < 1:
        found.problems.append("max_train_epochs must be at least 1.")
    if config.max_train_epochs is None and (config.max_train_steps or 0) < 1:
        found.problems.append("Set max_train_steps or max_train_epochs (at least 1).")
    if not 1 <= config.train_batch_size <= 64:
        found.problems.append(f"train_batch_size must be from 1 to 64, not {config.train_batch_size}.")
    if config.num_repeats is not None and config.num_repeats < 1:
        found.problems.append("num_repeats must be at least 1.")
    for name in ("save_every_n_steps", "save_every_n_epochs", "sample_every_n_steps"):
        value = getattr(config, name)
        if value is not None and value < 1:
            found.problems.append(f"{name} must be at least 1 (or empty for never).")
    if config.keep_tokens < 0 or config.lr_warmup_steps < 0 or config.seed < 0:
        found.problems.append("keep_tokens, lr_warmup_steps and seed cannot be negative.")
    if not 0 <= config.caption_dropout_rate < 1:
        found.problems.append("caption_dropout_rate must be from 0 to below 1.")
    if config.sample_every_n_steps and not config.sample_prompts:
        found.warnings.append("sample_every_n_steps is set but there are no sample prompts; "
                              "no samples will be made.")


def _check_choices(config: TrainingConfig, found: Findings) -> None:
    if config.family not in FAMILIES:
        found.problems.append(f"family must be one of {', '.join(FAMILIES)}, not '{config.family}'.")
    if config.mixed_precision not in PRECISIONS:
        found.problems.append(f"mixed_precision must be one of {', '.join(PRECISIONS)}.")
    if config.save_precision not in SAVE_PRECISIONS:
        found.problems.append(f"save_precision must be one of {', '.join(SAVE_PRECISIONS)}.")
    optimizer = config.optimizer_type
    if optimizer and "." not in optimizer and optimizer.lower() not in OPTIMIZERS:
        found.problems.append(f"sd-scripts has no optimizer '{optimizer}' (AdamW, AdamW8bit, Lion, "
                              "AdaFactor, Prodigy, DAdaptation…, or a class path).")
    if config.lr_scheduler not in SCHEDULERS:
        found.problems.append(f"lr_scheduler must be one of {', '.join(SCHEDULERS)}.")
    if config.sample_sampler not in SAMPLERS:
        found.problems.append(f"sample_sampler must be one of {', '.join(SAMPLERS)}.")


def _check_scheduler(config: TrainingConfig, found: Findings) -> None:
    """What sd-scripts' get_scheduler_fix refuses once the model is loaded (a minute or more in).
    A schedule-free optimizer skips it (its scheduler is a stand-in); a custom lr_scheduler_type
    takes no warmup; Adafactor with relative_step (its default) puts its own scheduler in place
    of lr_scheduler, which takes no warmup either and is the only one 'adafactor' may name."""
    optimizer, scheduler = config.optimizer_type.lower(), config.lr_scheduler
    extras = dict(config.extra_options)
    if optimizer.endswith("schedulefree"):
        return
    if "lr_scheduler_type" in extras:
        if config.lr_warmup_steps:
            found.problems.append("A custom lr_scheduler_type takes no warmup: set lr_warmup_steps=0.")
        return
    adafactor = optimizer == "adafactor"  # only this name; a class path keeps the scheduler given
    relative = adafactor and _relative_step(extras.get("optimizer_args", ()))
    if scheduler == "adafactor" and not adafactor:
        found.problems.append(f"lr_scheduler adafactor works only with optimizer_type Adafactor, not "
                              f"'{config.optimizer_type or 'AdamW'}': choose another lr_scheduler (e.g. "
                              "cosine) or set optimizer_type=Adafactor.")
    elif scheduler == "adafactor" and not relative:
        found.problems.append("lr_scheduler adafactor needs Adafactor's relative_step (its default): "
                              "drop relative_step=False from optimizer_args or choose another lr_scheduler.")
    elif config.lr_warmup_steps and relative:
        found.problems.append("optimizer_type Adafactor (with relative_step, its default) schedules the "
                              "learning rate itself and takes no warmup: set lr_warmup_steps=0.")
    elif config.lr_warmup_steps and scheduler == "constant":
        found.problems.append("lr_scheduler constant takes no warmup: set lr_warmup_steps=0 or use "
                              "lr_scheduler=constant_with_warmup.")


def _relative_step(optimizer_args: Sequence[str]) -> bool:
    """Adafactor's relative_step as sd-scripts settles it: on unless set false, and back on
    when warmup_init is set."""
    values: dict[str, object] = {"relative_step": True, "warmup_init": False}
    for arg in optimizer_args:
        key, _, raw = arg.partition("=")
        try:
            values[key.strip()] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            continue  # sd-scripts itself stops on it; its own message says which
    return bool(values["relative_step"]) or bool(values["warmup_init"])


def _check_family_rules(config: TrainingConfig, found: Findings) -> None:
    """Combinations sd-scripts itself refuses after loading the model."""
    if config.cache_text_encoder_outputs:
        if config.family == "sd15":
            found.problems.append("cache_text_encoder_outputs is for SDXL, FLUX.1 and SD 3.5, not SD 1.5.")
        if config.shuffle_caption or config.caption_dropout_rate > 0:
            found.problems.append("cache_text_encoder_outputs cannot be used with shuffle_caption "
                                  "or caption_dropout_rate (sd-scripts refuses it).")
        if not config.network_train_unet_only:
            found.problems.append("cache_text_encoder_outputs needs network_train_unet_only (the "
                                  "text encoders cannot be trained from cached outputs).")
    if config.mixed_precision == "bf16" and config.family == "sd15" and config.save_precision == "bf16":
        found.warnings.append("bf16 files do not load in every SD 1.5 tool; fp16 is safer to share.")
    if config.family == "sdxl" and config.resolution < 768:
        found.warnings.append(f"SDXL was trained at 1024; {config.resolution} gives weak results.")


def _check_gpu(config: TrainingConfig, gpu_gb: float | None, found: Findings) -> None:
    need = estimate_gb(config)  # FLUX.1 / SD 3.5: from the settings; else the preset's card
    if gpu_gb is None:
        said = f"about {need:.0f} GB" if need is not None else f"a {config.vram_gb} GB GPU"
        found.warnings.append(f"No NVIDIA GPU was detected here, so whether this setup fits (it needs {said}) "
                              "cannot be checked; the training needs one where the worker runs.")
        return
    if need is not None:
        if need > gpu_gb:
            found.problems.append(f"This setup needs about {need:.0f} GB of GPU memory; the one here has "
                                  f"{gpu_gb:.0f} GB.{fit_advice(config, gpu_gb)}")
        return
    # Drivers report a little less than the marketing size (a "12 GB" card shows ~11.7 GiB).
    if gpu_gb + 1.0 < config.vram_gb:
        found.problems.append(f"This setup needs a GPU with {config.vram_gb} GB; the one here has "
                              f"{gpu_gb:.0f} GB. Choose a preset for less VRAM or lower the batch "
                              "size and resolution.")


def _check_launch(config: TrainingConfig, launch: Launch, found: Findings) -> None:
    if not launch.folder.is_dir():
        found.problems.append(f"The sd-scripts folder {launch.folder} does not exist (set "
                              "sdscripts.folder or pass --sd-scripts).")
        return
    script = launch.folder / SCRIPTS.get(config.family, SCRIPTS["sd15"])
    if not script.is_file() and (launch.folder / SCRIPTS["sd15"]).is_file():
        # FLUX.1 and SD 3.5 came with sd-scripts' sd3 branch, merged into main in 2025.
        found.problems.append(f"The sd-scripts in {launch.folder} is too old for {config.family}: it has no "
                              f"{script.name}. Update it (git pull on its main branch, then its requirements).")
    elif not script.is_file():
        found.problems.append(f"{launch.folder} is not an sd-scripts checkout: {script.name} is missing.")
    if not Path(launch.python).is_file() and shutil.which(launch.python) is None:
        found.problems.append(f"The Python for sd-scripts ({launch.python}) does not exist "
                              "(sdscripts.python).")


@functools.lru_cache(maxsize=1)
def detect_vram_gb() -> float | None:
    """The largest NVIDIA GPU's memory in GB, from nvidia-smi; None without one."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        sizes = [float(line) for line in out.split() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return max(sizes) / 1024 if sizes else None  # MiB → GiB
