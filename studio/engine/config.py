"""Settings: a typed object stored as TOML in the platform's config folder.

Secrets never live here; see ``studio.engine.secrets``.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import tomli_w

from studio.engine.errors import SettingsError
from studio.engine.fsutil import atomic_write_text

APP_NAME = "influencerai-studio"
DATA_DIR_ENV = "INFLUENCERAI_DATA_DIR"
CONFIG_DIR_ENV = "INFLUENCERAI_CONFIG_DIR"
SETTINGS_FILE = "settings.toml"


@dataclass(slots=True)
class GeneralSettings:
    data_dir: str = ""  # empty: the platform's data folder
    current_workspace: str = ""
    first_run_done: bool = False  # the getting-started guide was completed or skipped


@dataclass(slots=True)
class DatabaseSettings:
    url: str = ""  # empty: SQLite file in the data folder


@dataclass(slots=True)
class QueueSettings:
    backend: str = "sqlite"  # "sqlite" or "redis"
    redis_url: str = ""
    generation_workers: int = 3
    video_workers: int = 1
    training_workers: int = 1
    general_workers: int = 2
    pipeline_workers: int = 4  # pipelines mostly wait for their steps' jobs on the other queues


@dataclass(slots=True)
class WorkerSettings:
    heartbeat_interval_s: float = 5.0
    heartbeat_timeout_s: float = 30.0


@dataclass(slots=True)
class ComfyUISettings:
    url: str = "http://127.0.0.1:8188"
    folder: str = ""  # a local ComfyUI checkout (holds main.py); empty: only connect to the URL
    python: str = ""  # empty: the folder's venv/.venv python if present, else sys.executable
    listen: str = "127.0.0.1"
    port: int = 8188
    extra_args: str = ""  # split with shlex.split, never run through a shell
    autostart: bool = False
    loras_dir: str = ""  # ComfyUI's models/loras on this machine; empty: <folder>/models/loras


@dataclass(slots=True)
class SdScriptsSettings:
    folder: str = ""
    python: str = ""  # empty: the folder's venv python, else the system's


@dataclass(slots=True)
class FFmpegSettings:
    path: str = ""  # empty: PATH, then the bundled imageio-ffmpeg binary


@dataclass(slots=True)
class LLMSettings:
    base_url: str = "https://openrouter.ai/api/v1"
    model: str = ""
    plan_model: str = ""  # a text model for content plans; empty: llm.model
    fallback_models: str = ""  # comma-separated model ids OpenRouter tries in order after the first


@dataclass(slots=True)
class ServerSettings:
    """Team mode. Passwords and keys are secrets (server.postgres, server.redis, server.s3)."""

    database_url: str = ""
    redis_url: str = ""
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_ca_bundle: str = ""  # a private CA for an https S3 endpoint; empty: the system's


@dataclass(slots=True)
class PipelineSettings:
    """How an approved plan item becomes a finished post."""

    template: str = "txt2img-sd15-lora"  # the picture's workflow; the influencer's active LoRA goes in
    checkpoint: str = ""  # empty: the template's own
    video_template: str = "i2v-svd"  # for items with a motion prompt
    daily_at: str = ""  # "HH:MM" local time: run today's approved items then; empty: off
    stagger_minutes: int = 10  # between the pipelines the daily run starts
    publish_dir: str = ""  # empty: <data folder>/publish


@dataclass(slots=True)
class UISettings:
    theme: str = "system"  # "system", "dark" or "light"


@dataclass(slots=True)
class Settings:
    general: GeneralSettings = field(default_factory=GeneralSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    comfyui: ComfyUISettings = field(default_factory=ComfyUISettings)
    sdscripts: SdScriptsSettings = field(default_factory=SdScriptsSettings)
    ffmpeg: FFmpegSettings = field(default_factory=FFmpegSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    ui: UISettings = field(default_factory=UISettings)

    def get(self, key: str) -> object:
        section, name = _split_key(self, key)
        return getattr(section, name)

    def set(self, key: str, raw: object) -> None:
        """Sets a dotted key (``comfyui.url``); strings are converted to the field's type."""
        section, name = _split_key(self, key)
        kind = _field_types(type(section))[name]
        setattr(section, name, _coerce(key, raw, kind))
        _validate(self)

    def keys(self) -> list[str]:
        return [f"{s.name}.{f.name}" for s in dataclasses.fields(self)
                for f in dataclasses.fields(getattr(self, s.name))]

    def as_dict(self) -> dict[str, dict[str, object]]:
        return dataclasses.asdict(self)

    def copy(self) -> Settings:
        return copy.deepcopy(self)

    def take(self, other: Settings) -> None:
        """Every value of ``other``, set in place: this object stays the one the app holds."""
        for section in dataclasses.fields(self):
            mine, theirs = getattr(self, section.name), getattr(other, section.name)
            for name in dataclasses.fields(mine):
                setattr(mine, name.name, getattr(theirs, name.name))


ALLOWED = {
    "queue.backend": ("sqlite", "redis"),
    "ui.theme": ("system", "dark", "light"),
}


@dataclass(frozen=True, slots=True)
class Paths:
    """Where one profile keeps its things. Tests and profiles point these at their own folders."""

    data_dir: Path
    config_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_FILE

    @property
    def database_file(self) -> Path:
        return self.data_dir / "studio.sqlite3"

    @property
    def queue_file(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    @property
    def assets_dir(self) -> Path:
        return self.data_dir / "assets"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        """Lock files and requests between the app and its worker."""
        return self.data_dir / "run"

    def ensure(self) -> None:
        for folder in (self.data_dir, self.config_dir, self.assets_dir, self.cache_dir,
                       self.logs_dir, self.run_dir):
            folder.mkdir(parents=True, exist_ok=True)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> Paths:
    """Data folder: argument, then $INFLUENCERAI_DATA_DIR, then the settings, then the platform's.

    An explicitly chosen data folder is a profile of its own: its settings live inside it too,
    so a test or a second profile never reads or writes the user's real settings.
    """
    explicit = data_dir or os.environ.get(DATA_DIR_ENV)
    config_env = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        data = Path(explicit).expanduser().resolve()
        config = Path(config_env).expanduser().resolve() if config_env else data
        return Paths(data_dir=data, config_dir=config)
    config = Path(config_env) if config_env else Path(platformdirs.user_config_dir(APP_NAME))
    settings = load_settings(config / SETTINGS_FILE)
    chosen = settings.general.data_dir or platformdirs.user_data_dir(APP_NAME)
    return Paths(data_dir=Path(chosen).expanduser().resolve(), config_dir=config.resolve())


def load_settings(path: Path) -> Settings:
    """Reads the TOML file; a missing file gives the defaults, a broken one a SettingsError."""
    settings = Settings()
    if not path.exists():
        return settings
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"The settings file {path} cannot be read: {exc}") from exc
    known = settings.keys()
    for section_name, values in raw.items():
        if not isinstance(values, dict) or not hasattr(settings, section_name):
            continue  # sections from newer versions are kept out, not fatal
        for name, value in values.items():
            key = f"{section_name}.{name}"
            if key in known:
                settings.set(key, value)
    return settings


def save_settings(settings: Settings, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, tomli_w.dumps(settings.as_dict()))


def _split_key(settings: Settings, key: str) -> tuple[object, str]:
    parts = key.split(".")
    known = settings.keys()
    if len(parts) != 2 or key not in known:
        raise SettingsError(f"Unknown setting '{key}'. Known settings: {', '.join(known)}")
    return getattr(settings, parts[0]), parts[1]


def _field_types(cls: type) -> dict[str, type]:
    return typing.get_type_hints(cls)


def _coerce(key: str, raw: object, kind: type) -> object:
    if isinstance(kind, types.UnionType):
        kind = next(t for t in typing.get_args(kind) if t is not type(None))
    try:
        if kind is bool:
            if isinstance(raw, str):
                if raw.lower() in ("1", "true", "yes", "on"):
                    return True
                if raw.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(raw)
            return bool(raw)
        if kind is int or kind is float:
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                raise ValueError(raw)
            return int(raw) if kind is int else float(raw)
        if kind is str:
            return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"'{raw}' is not a valid {kind.__name__} for {key}.") from exc
    raise SettingsError(f"{key} has an unsupported type.")


def _validate(settings: Settings) -> None:
    for key, allowed in ALLOWED.items():
        value = settings.get(key)
        if value not in allowed:
            raise SettingsError(f"{key} must be one of {', '.join(allowed)}, not '{value}'.")
    daily = str(settings.get("pipeline.daily_at")).strip()
    if daily and not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", daily):
        raise SettingsError(f"pipeline.daily_at is a time like 09:30, not '{daily}'.")
    if settings.pipeline.stagger_minutes < 0:
        raise SettingsError("pipeline.stagger_minutes cannot be negative.")
    queue = settings.queue
    for name, count in (("generation_workers", queue.generation_workers), ("video_workers", queue.video_workers),
                        ("training_workers", queue.training_workers), ("general_workers", queue.general_workers),
                        ("pipeline_workers", queue.pipeline_workers)):
        if count < 1:
            raise SettingsError(f"queue.{name} must be at least 1.")
