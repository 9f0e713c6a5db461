"""What sd-scripts is given: the dataset_config.toml, the sample prompts and the command line.

Pure functions of the config and the training's folder, so ``train --dry-run`` prints exactly
what a run uses. The trainer sees only the exported dataset folder, never the studio's store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from studio.engine.training.config import TrainingConfig
from studio.engine.training.python_env import accelerate_beside, sdscripts_python

SCRIPTS = {"sd15": "train_network.py", "sdxl": "sdxl_train_network.py",
           "flux1": "flux_train_network.py", "sd35": "sd3_train_network.py"}
# The LoRA module each script trains (sd-scripts' networks/: lora_flux and lora_sd3 know the
# transformers' layer names; plain lora only the U-Net's).
NETWORK_MODULES = {"sd15": "networks.lora", "sdxl": "networks.lora", "flux1": "networks.lora_flux",
                   "sd35": "networks.lora_sd3"}
DIT_FAMILIES = ("flux1", "sd35")  # transformer models: text encoders and flow-matching options
NEGATIVE = "lowres, blurry, bad anatomy, bad hands, watermark, text"
# Sample images as each family is usually drawn: (steps, the prompt-file options after --s N).
# FLUX.1 dev draws with its embedded guidance (--g) and no CFG, so no negative prompt either.
SAMPLE_SETTINGS = {"flux1": (20, "--g 3.5"), "sd35": (28, "--l 4.5")}
SAMPLE_STEPS = 28
SAMPLE_CFG = 7


@dataclass(frozen=True, slots=True)
class Launch:
    """How sd-scripts is started: ``accelerate launch`` when its venv has accelerate, else python."""

    folder: Path
    python: str
    accelerate: str | None

    def script(self, family: str) -> Path:
        return self.folder / SCRIPTS[family]

    def prefix(self, family: str) -> list[str]:
        if self.accelerate:
            return [self.accelerate, "launch", "--num_cpu_threads_per_process", "1",
                    str(self.script(family))]
        return [self.python, str(self.script(family))]


@dataclass(frozen=True, slots=True)
class DatasetSource:
    """The exported kohya folder as the trainer will see it."""

    image_dir: Path
    images: int
    repeats: int
    class_tokens: str
    trigger: str


@dataclass(frozen=True, slots=True)
class TrainingFiles:
    """Everything of one training lives in its own folder (``training/<workspace>/<name>``)."""

    root: Path

    @property
    def dataset_dir(self) -> Path:
        return self.root / "dataset"

    @property
    def dataset_config(self) -> Path:
        return self.root / "dataset_config.toml"

    @property
    def sample_prompts(self) -> Path:
        return self.root / "sample_prompts.txt"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def samples_dir(self) -> Path:
        return self.output_dir / "sample"

    @property
    def log_file(self) -> Path:
        return self.root / "train.log"

    @property
    def metrics_file(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def command_file(self) -> Path:
        return self.root / "command.json"


@dataclass(frozen=True, slots=True)
class StepPlan:
    steps_per_epoch: int
    epochs: int
    total_steps: int


def resolve_launch(folder: Path, python_setting: str = "") -> Launch:
    """The sd-scripts checkout, its Python (``python_env.sdscripts_python``: setting, its venv,
    python3 on PATH) and, beside that Python, ``accelerate`` when it is installed there."""
    python = sdscripts_python(folder, python_setting).path
    return Launch(folder=folder.expanduser().absolute(), python=python,
                  accelerate=accelerate_beside(python))


def plan_steps(config: TrainingConfig, images: int, repeats: int) -> StepPlan:
    """sd-scripts' own arithmetic: epochs win over steps; otherwise enough epochs to reach them.
    (Buckets can add a batch or two per epoch; this is the number it starts from.)"""
    per_epoch = max(1, math.ceil(images * repeats / max(1, config.train_batch_size)))
    if config.max_train_epochs:
        return StepPlan(per_epoch, config.max_train_epochs, per_epoch * config.max_train_epochs)
    total = config.max_train_steps or 1600  # sd-scripts' default
    return StepPlan(per_epoch, math.ceil(total / per_epoch), total)


def dataset_config_text(config: TrainingConfig, source: DatasetSource) -> str:
    general: dict[str, Any] = {"caption_extension": ".txt", "shuffle_caption": config.shuffle_caption,
                               "keep_tokens": config.keep_tokens}
    if config.flip_aug:
        general["flip_aug"] = True
    if config.caption_dropout_rate > 0:
        general["caption_dropout_rate"] = config.caption_dropout_rate
    dataset: dict[str, Any] = {"resolution": config.resolution, "batch_size": config.train_batch_size,
                               "enable_bucket": config.enable_bucket}
    if config.enable_bucket:
        dataset.update(min_bucket_reso=config.min_bucket_reso, max_bucket_reso=config.max_bucket_reso,
                       bucket_reso_steps=config.bucket_reso_steps)
    subset: dict[str, Any] = {"image_dir": str(source.image_dir),
                              "num_repeats": config.num_repeats or source.repeats}
    if source.class_tokens:
        subset["class_tokens"] = source.class_tokens
    dataset["subsets"] = [subset]
    return ("# Written by InfluencerAI Studio for kohya sd-scripts (--dataset_config).\n\n"
            + tomli_w.dumps({"general": general, "datasets": [dataset]}))


def sample_prompts_text(config: TrainingConfig, trigger: str) -> str:
    """One line per prompt in sd-scripts' prompt-file syntax, with a fixed seed each."""
    lines = []
    steps, guide = SAMPLE_SETTINGS.get(config.family, (SAMPLE_STEPS, f"--l {SAMPLE_CFG}"))
    negative = "" if config.family == "flux1" else f" --n {NEGATIVE}"
    for index, prompt in enumerate(config.sample_prompts):
        text = " ".join(prompt.replace("{trigger}", trigger).split()).strip(" ,")
        lines.append(f"{text}{negative} --w {config.resolution} --h {config.resolution} "
                     f"--d {config.seed + index} --s {steps} {guide}")
    return "\n".join(lines) + ("\n" if lines else "")


def _state_and_samples(config: TrainingConfig, files: TrainingFiles) -> list[str]:
    argv = ["--save_state", "--save_state_on_train_end"] if config.save_state else []
    if config.sample_prompts and config.sample_every_n_steps:
        argv += ["--sample_prompts", str(files.sample_prompts),
                 "--sample_every_n_steps", str(config.sample_every_n_steps)]
        if config.family not in DIT_FAMILIES:  # FLUX.1 and SD 3.5 sample with their own Euler
            argv += ["--sample_sampler", config.sample_sampler]
    return argv


def _model_files(config: TrainingConfig) -> list[str]:
    """The text encoders and autoencoder the family's script loads beside the base model."""
    if config.family == "flux1":
        return _valued_text(("--clip_l", config.clip_l), ("--t5xxl", config.t5xxl), ("--ae", config.ae))
    if config.family == "sd35":
        return _valued_text(("--clip_l", config.clip_l), ("--clip_g", config.clip_g),
                            ("--t5xxl", config.t5xxl))
    return []


def _dit_options(config: TrainingConfig) -> list[str]:
    """FLUX.1's and SD 3.5's own training options, and the memory savers both scripts share."""
    if config.family not in DIT_FAMILIES:
        return []
    argv: list[str] = []
    if config.family == "flux1":
        argv += _valued(("--guidance_scale", config.guidance_scale))
        argv += _valued_text(("--timestep_sampling", config.timestep_sampling),
                             ("--model_prediction_type", config.model_prediction_type))
        argv += _valued(("--discrete_flow_shift", config.discrete_flow_shift))
    else:
        argv += _valued(("--training_shift", config.training_shift))
    argv += _valued_text(("--weighting_scheme", config.weighting_scheme))
    argv += _valued(("--blocks_to_swap", config.blocks_to_swap or None))
    argv += _flags(("--apply_t5_attn_mask", config.apply_t5_attn_mask),
                   ("--fp8_base", config.fp8_base), ("--fp8_base_unet", config.fp8_base_unet),
                   ("--cache_text_encoder_outputs_to_disk", config.cache_text_encoder_outputs_to_disk),
                   ("--cache_latents_to_disk", config.cache_latents_to_disk))
    return argv


def build_argv(config: TrainingConfig, launch: Launch, files: TrainingFiles, output_name: str, *,
               resume: Path | None = None) -> list[str]:
    argv = [
        *launch.prefix(config.family),
        "--pretrained_model_name_or_path", config.base_model,
        *_model_files(config),
        "--dataset_config", str(files.dataset_config),
        "--output_dir", str(files.output_dir), "--output_name", output_name,
        "--save_model_as", "safetensors",
        "--network_module", NETWORK_MODULES[config.family],
        "--network_dim", str(config.network_dim), "--network_alpha", _num(config.network_alpha),
        "--learning_rate", _num(config.learning_rate),
    ]
    argv += _valued(("--unet_lr", config.unet_lr), ("--text_encoder_lr", config.text_encoder_lr))
    argv += ["--optimizer_type", config.optimizer_type, "--lr_scheduler", config.lr_scheduler]
    argv += _valued(("--lr_warmup_steps", config.lr_warmup_steps or None))
    if config.max_train_epochs:
        argv += ["--max_train_epochs", str(config.max_train_epochs)]
    else:
        argv += ["--max_train_steps", str(config.max_train_steps or 1600)]
    argv += ["--mixed_precision", config.mixed_precision, "--save_precision", config.save_precision,
             "--seed", str(config.seed),
             "--max_data_loader_n_workers", str(config.max_data_loader_n_workers)]
    argv += _flags(("--network_train_unet_only", config.network_train_unet_only),
                   ("--gradient_checkpointing", config.gradient_checkpointing),
                   ("--cache_latents", config.cache_latents),
                   ("--cache_text_encoder_outputs", config.cache_text_encoder_outputs and
                    config.family != "sd15"),
                   ("--sdpa", config.sdpa))
    argv += _dit_options(config)
    argv += _valued(("--save_every_n_steps", config.save_every_n_steps),
                    ("--save_every_n_epochs", config.save_every_n_epochs))
    argv += _state_and_samples(config, files)
    for name, tokens in config.extra_options:  # checked against the script's parser (script_options.py)
        argv += [f"--{name}", *tokens]
    argv += ["--console_log_simple"]  # plain log lines instead of rich's columns
    if resume is not None:
        # Without --skip_until_initial_step sd-scripts loads the state but counts (and trains) from step 0.
        argv += ["--resume", str(resume), "--skip_until_initial_step"]
    return argv


def _num(value: float) -> str:
    return f"{value:g}"


def _valued(*pairs: tuple[str, float | int | None]) -> list[str]:
    out: list[str] = []
    for option, value in pairs:
        if value is not None:
            out += [option, _num(value) if isinstance(value, float) else str(value)]
    return out


def _valued_text(*pairs: tuple[str, str]) -> list[str]:
    return [token for option, value in pairs if value for token in (option, value)]


def _flags(*pairs: tuple[str, bool]) -> list[str]:
    return [option for option, on in pairs if on]
