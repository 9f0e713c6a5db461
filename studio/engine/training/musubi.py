"""What kohya musubi-tuner is given: the command of each stage of one training.

musubi-tuner trains from caches it makes first (docs/qwen_image.md, docs/wan.md): the VAE's
latents of every picture and clip, then the text encoder's outputs of every caption, then the
LoRA. Each is its own script; the studio runs them in that order as stages of one job. The
caching scripts run with plain ``python``, the trainer under ``accelerate launch`` as its docs
show (plain ``python`` when no accelerate is installed beside that Python).

Pure functions of the config, so ``train --dry-run`` prints exactly what a run uses. The model
files and the options musubi-tuner has that TrainingConfig does not (``dit``, ``task``,
``timestep_boundary``, ``fp8_scaled`` …) come from the preset's ``[options]`` table and
``--set``, under musubi-tuner's own names; each stage takes the ones its script knows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.engine.training.command import Launch, TrainingFiles
from studio.engine.training.config import TrainingConfig
from studio.engine.training.musubi_env import SCRIPTS, script_path

Options = dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class FamilySpec:
    network_module: str
    latents: tuple[str, ...]  # options the latent-caching script takes from [options]
    text: tuple[str, ...]  # … the text-encoder caching script
    not_trained: tuple[str, ...]  # options of the caching scripts the trainer is not given
    text_batch: int  # the docs' --batch_size for text-encoder caching


FAMILIES = {
    "qwen_image": FamilySpec(network_module="networks.lora_qwen_image", latents=("vae", "vae_dtype"),
                             text=("text_encoder", "fp8_vl", "model_version"), not_trained=("vae_dtype",),
                             text_batch=1),
    "wan22_14b": FamilySpec(network_module="networks.lora_wan",
                            latents=("vae", "vae_dtype", "vae_cache_cpu", "clip"), text=("t5", "fp8_t5"),
                            not_trained=("vae", "vae_dtype", "vae_cache_cpu", "clip", "t5", "fp8_t5"),
                            text_batch=16),
}
# Typed settings musubi-tuner's trainer shares by name with sd-scripts (some only in newer
# TrainingConfigs: read with getattr so an older one simply has none).
SHARED_VALUES = ("timestep_sampling", "discrete_flow_shift", "weighting_scheme", "blocks_to_swap")
SHARED_FLAGS = ("fp8_base",)


@dataclass(frozen=True, slots=True)
class Stage:
    key: str  # "latents", "text", "train"
    title: str  # the job's stage while it runs
    argv: tuple[str, ...]


def stage_titles() -> dict[str, str]:
    return {"latents": "Caching latents", "text": "Caching text-encoder outputs", "train": "Training"}


def options_of(config: TrainingConfig) -> Options:
    """musubi-tuner options beyond the typed settings: shared typed ones first, then [options]
    and --set (a later name replaces an earlier one)."""
    found: Options = {}
    for name in SHARED_VALUES:
        value = getattr(config, name, None)
        if value not in (None, ""):
            found[name] = (f"{value:g}" if isinstance(value, float) else str(value),)
    for name in SHARED_FLAGS:
        if getattr(config, name, False):
            found[name] = ()
    for name, tokens in config.extra_options:
        found[name] = tuple(tokens)
    return found


def musubi_stages(config: TrainingConfig, launch: Launch, files: TrainingFiles,
                  output_name: str) -> tuple[Stage, ...]:
    spec = FAMILIES[config.family]
    latents, text, train = SCRIPTS[config.family]
    options = options_of(config)
    titles = stage_titles()
    dataset = ["--dataset_config", str(files.dataset_config)]
    latents_argv = [launch.python, str(script_path(launch, latents)), *dataset,
                    *_picked(options, spec.latents)]
    if options.get("task", ("",))[0].startswith("i2v"):
        latents_argv.append("--i2v")  # image-to-video latents carry the first frame's conditioning
    text_argv = [launch.python, str(script_path(launch, text)), *dataset,
                 *_picked(options, spec.text), "--batch_size", str(spec.text_batch)]
    train_argv = [*_launcher(launch, config), str(script_path(launch, train)),
                  *train_options(config, files, output_name, options, spec)]
    return (Stage("latents", titles["latents"], tuple(latents_argv)),
            Stage("text", titles["text"], tuple(text_argv)),
            Stage("train", titles["train"], tuple(train_argv)))


def _launcher(launch: Launch, config: TrainingConfig) -> list[str]:
    if launch.accelerate:
        return [launch.accelerate, "launch", "--num_cpu_threads_per_process", "1",
                "--mixed_precision", config.mixed_precision]
    return [launch.python]


def train_options(config: TrainingConfig, files: TrainingFiles, output_name: str, options: Options,
                  spec: FamilySpec) -> list[str]:
    argv = ["--dataset_config", str(files.dataset_config), "--output_dir", str(files.output_dir),
            "--output_name", output_name, "--network_module", spec.network_module,
            "--network_dim", str(config.network_dim), "--network_alpha", _num(config.network_alpha),
            "--learning_rate", _num(config.learning_rate), "--optimizer_type", config.optimizer_type,
            "--lr_scheduler", config.lr_scheduler]
    if config.lr_warmup_steps:
        argv += ["--lr_warmup_steps", str(config.lr_warmup_steps)]
    if config.max_train_epochs:
        argv += ["--max_train_epochs", str(config.max_train_epochs)]
    else:
        argv += ["--max_train_steps", str(config.max_train_steps or 1600)]
    argv += ["--mixed_precision", config.mixed_precision, "--save_precision", config.save_precision,
             "--seed", str(config.seed), "--max_data_loader_n_workers", str(config.max_data_loader_n_workers)]
    if config.max_data_loader_n_workers:
        argv.append("--persistent_data_loader_workers")
    argv += [flag for flag, on in (("--gradient_checkpointing", config.gradient_checkpointing),
                                   ("--sdpa", config.sdpa)) if on]
    for option, value in (("--save_every_n_steps", config.save_every_n_steps),
                          ("--save_every_n_epochs", config.save_every_n_epochs)):
        if value:
            argv += [option, str(value)]
    trained = {k: v for k, v in options.items() if k not in spec.not_trained}
    return argv + _picked(trained, tuple(trained))


def _picked(options: Options, names: tuple[str, ...]) -> list[str]:
    argv: list[str] = []
    for name in names:
        if name in options:
            argv += [f"--{name}", *options[name]]
    return argv


def model_options(config: TrainingConfig) -> dict[str, Path]:
    """The model files the commands name (dit, vae, t5 …), by option."""
    options = options_of(config)
    files = ("dit", "dit_high_noise", "vae", "text_encoder", "t5", "clip")
    return {name: Path(options[name][0]) for name in files if options.get(name)}


def _num(value: float) -> str:
    return f"{value:g}"
