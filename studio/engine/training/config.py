"""A training's settings as one typed value, and the presets it starts from.

Field names are sd-scripts' own option names (Decision 6), so ``--set learning_rate=5e-5``
means what sd-scripts' documentation says; ``base_model`` stands for
``--pretrained_model_name_or_path``, ``family`` picks the script (command.SCRIPTS: sd15
train_network.py, sdxl sdxl_train_network.py, flux1 flux_train_network.py, sd35
sd3_train_network.py), and ``num_repeats`` is the dataset subset's key (empty: the dataset's
own repeats). Presets are TOML files in ``resources/presets/training``: ``[settings]`` (these
fields), ``[options]`` (any other option of the family's script, passed as it is) and
``[models.<role>]`` (each model file the preset needs, see ModelFile).
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from studio.engine.errors import InvalidInput
from studio.resources import resource_path

PRESET_DIR = resource_path("presets", "training")
# Model families: sd15/sdxl/flux1/sd35 train with kohya sd-scripts; qwen_image and the Wan 2.2
# video models (wan22_14b: image-to-video A14B, high- and low-noise experts; wan22_5b: TI2V 5B)
# with kohya musubi-tuner. The same names are a LoRA's and a workflow template's "base".
FAMILIES = ("sd15", "sdxl", "flux1", "sd35", "qwen_image", "wan22_14b", "wan22_5b")
SD_SCRIPTS_FAMILIES = ("sd15", "sdxl", "flux1", "sd35")
MUSUBI_FAMILIES = ("qwen_image", "wan22_14b", "wan22_5b")
# Keys that are ours rather than sd-scripts' options; everything else maps to --<name>.
STUDIO_KEYS = ("family", "vram_gb", "base_model", "num_repeats", "sample_prompts")


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    family: str = "sd15"
    vram_gb: int = 12
    base_model: str = ""
    network_dim: int = 32
    network_alpha: float = 16.0
    learning_rate: float = 1e-4
    unet_lr: float | None = None
    text_encoder_lr: float | None = None
    network_train_unet_only: bool = False
    optimizer_type: str = "AdamW8bit"
    lr_scheduler: str = "cosine"
    lr_warmup_steps: int = 0
    max_train_steps: int | None = 1600
    max_train_epochs: int | None = None
    train_batch_size: int = 1
    resolution: int = 512
    enable_bucket: bool = True
    min_bucket_reso: int = 256
    max_bucket_reso: int = 1024
    bucket_reso_steps: int = 64
    num_repeats: int | None = None
    mixed_precision: str = "fp16"
    save_precision: str = "fp16"
    gradient_checkpointing: bool = False
    cache_latents: bool = True
    cache_text_encoder_outputs: bool = False
    sdpa: bool = True
    seed: int = 42
    save_every_n_steps: int | None = None
    save_every_n_epochs: int | None = None
    save_state: bool = True
    sample_every_n_steps: int | None = None
    sample_prompts: tuple[str, ...] = ()
    sample_sampler: str = "euler_a"
    shuffle_caption: bool = True
    keep_tokens: int = 1
    flip_aug: bool = False
    caption_dropout_rate: float = 0.0
    max_data_loader_n_workers: int = 2
    # The model files FLUX.1 (clip_l, t5xxl, ae) and SD 3.5 (clip_l, clip_g, t5xxl) take beside
    # base_model; empty: not passed.
    clip_l: str = ""
    clip_g: str = ""
    t5xxl: str = ""
    ae: str = ""
    # FLUX.1 / SD 3.5 training; None, "" or false: not passed (sd-scripts' own default).
    guidance_scale: float | None = None
    timestep_sampling: str = ""
    model_prediction_type: str = ""
    discrete_flow_shift: float | None = None
    weighting_scheme: str = ""
    training_shift: float | None = None
    apply_t5_attn_mask: bool = False
    blocks_to_swap: int | None = None
    fp8_base: bool = False
    fp8_base_unet: bool = False
    cache_text_encoder_outputs_to_disk: bool = False
    cache_latents_to_disk: bool = False
    # Any other option of the chosen script (``--set lowram=true``), checked against its own
    # parser (script_options.py): (name, the tokens after --name); no tokens for a flag.
    extra_options: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["sample_prompts"] = list(self.sample_prompts)
        data["extra_options"] = {name: list(tokens) for name, tokens in self.extra_options}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        """A stored config (a job's payload); unknown keys from other versions are dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "sample_prompts" in values:
            values["sample_prompts"] = tuple(str(p) for p in values["sample_prompts"] or ())
        if "extra_options" in values:
            values["extra_options"] = extra_options_from(values["extra_options"])
        return cls(**values)

    def with_values(self, values: dict[str, object]) -> TrainingConfig:
        """A copy with ``values`` (text or typed) converted to each field's type.

        Steps and epochs exclude each other the way users mean it: setting one alone clears the
        other (sd-scripts would otherwise let epochs win silently)."""
        converted: dict[str, Any] = {key: convert(key, raw) for key, raw in values.items()}  # typed per field
        if "max_train_steps" in converted and "max_train_epochs" not in converted:
            converted["max_train_epochs"] = None
        if "max_train_epochs" in converted and "max_train_steps" not in converted:
            converted["max_train_steps"] = None if converted["max_train_epochs"] else self.max_train_steps
        return dataclasses.replace(self, **converted)


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One model file a preset needs: the option it fills (``pretrained_model_name_or_path`` is
    base_model), a typical file name, its usual size, ComfyUI's folder for it and where its
    authors publish it (shown to the user, never downloaded)."""

    role: str  # base, clip_l, clip_g, t5xxl, ae, vae, text_encoder, …
    option: str
    file: str
    size_bytes: int
    folder: str = ""
    source: str = ""
    label: str = ""  # in words, e.g. "FLUX.1's T5-XXL text encoder"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Preset:
    slug: str
    title: str
    description: str
    config: TrainingConfig
    values: dict[str, Any] = field(default_factory=dict)  # what the file sets, for display
    models: dict[str, ModelFile] = field(default_factory=dict)  # by role, in the file's order


def model_path(config: TrainingConfig, option: str) -> str:
    """The file the user gave for ``option``: base_model for the base, a typed setting (clip_l,
    t5xxl, …) or, for another script's option (musubi-tuner's dit, vae, …), its --set value."""
    if option == "pretrained_model_name_or_path":
        return config.base_model
    if option in field_names():
        return str(getattr(config, option) or "")
    tokens = dict(config.extra_options).get(option, ())
    return tokens[0] if tokens else ""


def field_names() -> list[str]:
    """The typed settings ``--set`` and presets name (extra_options is filled another way)."""
    return [f.name for f in dataclasses.fields(TrainingConfig) if f.name != "extra_options"]


def extra_options_from(raw: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Stored extra options (a mapping, or pairs from an older payload) as the field's tuple."""
    pairs = raw.items() if isinstance(raw, dict) else raw if isinstance(raw, list | tuple) else ()
    return tuple((str(name), tuple(str(t) for t in tokens or ())) for name, tokens in pairs)


def field_type(name: str) -> Any:
    return _type_hints()[name]


@cache
def _type_hints() -> dict[str, Any]:
    """TrainingConfig's field types, evaluated once: each evaluation of its ~90 annotations costs
    a couple of milliseconds, and a preset's conversion asks for every field's."""
    return typing.get_type_hints(TrainingConfig)


def convert(key: str, raw: object) -> object:
    """``raw`` (a string from the command line or a TOML value) as the field's type."""
    if key not in field_names():
        close = difflib.get_close_matches(key, field_names(), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise InvalidInput(f"'{key}' is not a training setting.{hint} See `train presets --json` "
                           "for every setting.")
    kind = field_type(key)
    optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
    if optional:
        kind = next(t for t in typing.get_args(kind) if t is not type(None))
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none")):
            return None
    try:
        return _as(kind, raw)
    except (TypeError, ValueError):
        name = getattr(kind, "__name__", str(kind))
        raise InvalidInput(f"{key} takes a {_plain(name)}, not {raw!r}.") from None


def _number(kind: type[int] | type[float], raw: object) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(raw)
    if kind is float:
        return float(raw)
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError(raw)
    return int(raw.strip()) if isinstance(raw, str) else int(raw)


def _as(kind: Any, raw: object) -> object:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    if kind is int or kind is float:
        return _number(kind, raw)
    if kind is str:
        return str(raw).strip()
    if typing.get_origin(kind) is tuple:  # sample prompts: a list, or one text split at '|'
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split("|")
        return tuple(str(i).strip() for i in items if str(i).strip())
    raise ValueError(raw)


def _plain(name: str) -> str:
    return {"int": "whole number", "float": "number", "bool": "true or false", "str": "text",
            "tuple": "list of texts separated by '|'"}.get(name, name)


def load_presets(folder: Path = PRESET_DIR) -> dict[str, Preset]:
    """Every preset file, by slug; a broken file is an error naming it (they ship with the app)."""
    presets = {}
    for path in sorted(folder.glob("*.toml")):
        presets[path.stem] = _load_preset(path)
    return presets


def get_preset(slug: str, folder: Path = PRESET_DIR) -> Preset:
    presets = load_presets(folder)
    if slug not in presets:
        raise InvalidInput(f"There is no training preset '{slug}'; there are: "
                           f"{', '.join(presets) or 'none'}.")
    return presets[slug]


def _load_preset(path: Path) -> Preset:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"The training preset {path.name} cannot be read: {exc}") from exc
    values = dict(data.get("settings") or {})
    config = TrainingConfig().with_values(values)
    if config.family not in FAMILIES:
        raise InvalidInput(f"The training preset {path.name} has an unknown family '{config.family}'.")
    config = dataclasses.replace(config, extra_options=_options(data.get("options") or {}))
    return Preset(slug=path.stem, title=str(data.get("title") or path.stem),
                  description=str(data.get("description") or ""), config=config, values=values,
                  models=_models(path, data.get("models") or {}))


def _options(table: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[options]``: true is a flag, false leaves it out, a list is several values."""
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for name, value in table.items():
        if value is True:
            pairs.append((name, ()))
        elif value is not False:
            items = value if isinstance(value, list) else [value]
            pairs.append((name, tuple(str(item) for item in items)))
    return tuple(pairs)


def _models(path: Path, table: dict[str, Any]) -> dict[str, ModelFile]:
    models = {}
    for role, raw in table.items():
        try:
            models[role] = ModelFile(role=role, option=str(raw["option"]), file=str(raw["file"]),
                                     size_bytes=int(raw["size_bytes"]), folder=str(raw.get("folder", "")),
                                     source=str(raw.get("source", "")), label=str(raw.get("label", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"The training preset {path.name} has a broken [models.{role}] "
                               f"table (option, file and size_bytes are needed): {exc}") from None
    return models
