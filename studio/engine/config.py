"""Settings: a typed object stored as TOML in the platform's config folder. Secrets never live
here; see ``studio.engine.secrets``."""
from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import tomli_w

from studio.engine.errors import SettingsError
from studio.engine.fsutil import atomic_write_text
from studio.engine.settings_checks import ALLOWED, check_value
from studio.engine.settings_file import may_name, parse_settings_text

__all__ = ["ALLOWED", "Paths", "Settings", "SettingsRead", "load_settings", "read_settings",
           "resolve_paths", "save_settings"]

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


class MusubiSettings(SdScriptsSettings):  # kohya musubi-tuner (Qwen-Image, Wan 2.2): the same keys
    __slots__ = ()


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
    produce_ahead_hours: float = 6.0  # an approved item with a time is produced this long before it
    stagger_minutes: int = 10  # between the pipelines the daily run starts
    publish_dir: str = ""  # empty: <data folder>/publish
    min_identity: float = 0.0  # 0–1: a post's picture must score this like her (0: off)
    identity_retries: int = 3  # pictures tried, new seed each, before the post stops


@dataclass(slots=True)
class ApiSettings:
    """The local HTTP API (``api serve``); its tokens are in the database, hashed."""

    host: str = "127.0.0.1"  # another address only when asked, then with TLS or a warning
    port: int = 8765
    autostart: bool = False  # start it with the app and with `worker`
    tls_cert: str = ""  # PEM files; both set: https
    tls_key: str = ""
    requests_per_minute: int = 600  # per token
    max_body_mb: int = 200  # uploads included


@dataclass(slots=True)
class PlatformSettings:
    """One platform's API: where it answers (tests and proxies point it elsewhere), whether the
    worker posts to it at the item's time, and the OAuth client registered for the studio."""

    base_url: str = ""  # empty: the platform's own
    auth_url: str = ""  # the authorization page; empty: the platform's own
    enabled: bool = False  # off: produced posts are left ready for posting by hand
    client_id: str = ""  # the client secret, where the platform needs one, is a secret
    redirect_port: int = 0  # the sign-in's loopback port; 0: a free one (Instagram needs a fixed one)


@dataclass(slots=True)
class PublishSettings:
    """Posting to Instagram, TikTok and YouTube through their official APIs."""

    instagram: PlatformSettings = field(default_factory=PlatformSettings)
    tiktok: PlatformSettings = field(default_factory=PlatformSettings)
    youtube: PlatformSettings = field(default_factory=PlatformSettings)
    public_url_prefix: str = ""  # where published media can be fetched (Instagram needs a URL)
    ai_disclosure: bool = True  # the platforms' AI-generated content flags
    visibility: str = "public"  # "public" or "private": TikTok's privacy level, YouTube's status


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
    musubi: MusubiSettings = field(default_factory=MusubiSettings)
    ffmpeg: FFmpegSettings = field(default_factory=FFmpegSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    ui: UISettings = field(default_factory=UISettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)

    def get(self, key: str) -> object:
        section, name = _split_key(self, key)
        return getattr(section, name)

    def set(self, key: str, raw: object) -> None:
        """Sets a dotted key (``comfyui.url``); strings are converted to the field's type."""
        section, name = _split_key(self, key)
        kind = _field_types(type(section))[name]
        value = _coerce(key, raw, kind)
        check_value(key, value)  # before it is set: a refused value leaves the old one
        setattr(section, name, value)

    def keys(self) -> list[str]:
        """Dotted keys; a section may hold sub-sections (``publish.instagram.base_url``)."""
        return [key for s in dataclasses.fields(self) for key in _keys(s.name, getattr(self, s.name))]

    def as_dict(self) -> dict[str, dict[str, object]]:
        return dataclasses.asdict(self)

    def copy(self) -> Settings:
        return copy.deepcopy(self)

    def take(self, other: Settings) -> None:
        """Every value of ``other``, set in place: this object stays the one the app holds."""
        for key in self.keys():
            section, name = _split_key(self, key)
            setattr(section, name, other.get(key))


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

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every folder a profile has once the studio opened it (``ensure`` makes them)."""
        return (self.data_dir, self.config_dir, self.assets_dir, self.cache_dir, self.logs_dir,
                self.run_dir)

    def ensure(self) -> None:
        for folder in self.folders:
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
    """The settings in ``path``: defaults where it is missing, damaged or out of bounds."""
    return read_settings(path).settings


@dataclass(frozen=True, slots=True)
class SettingsRead:
    """The settings a file gave, and what in it could not be used (one line per problem)."""

    settings: Settings
    problems: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()  # keys left at their default because the file's value was unusable
    damage: str = ""  # why the file is not whole TOML, "" when it is
    refused: tuple[str, ...] = ()  # values out of bounds, one line each

    @property
    def damaged(self) -> bool:
        return bool(self.problems)

    def lost_among(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """The lost entries that may have been one of ``keys``."""
        return tuple(lost for lost in self.lost if any(may_name(lost, key) for key in keys))


# Keys that decide where the data is: guessing them could open an empty studio, or a local one
# instead of the team's.
UNSAFE_KEYS = ("general.data_dir", "database.url", "queue.backend", "queue.redis_url")


def read_settings(path: Path) -> SettingsRead:
    """Reads the TOML file leniently: a damaged file or a value out of bounds never stops the
    studio; what could not be used is reported and left at its default."""
    settings = Settings()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SettingsRead(settings)
    except OSError as exc:
        return SettingsRead(settings, (f"The settings file {path} cannot be read ({exc.strerror}); "
                                       "using the defaults.",), ("?.?",))
    parsed = parse_settings_text(data.decode("utf-8", errors="replace"))
    problems, lost, refused = [], list(parsed.lost), []
    if parsed.damage:
        problems.append(f"The settings file {path} is damaged ({parsed.damage}); the studio uses "
                        "what it could read and defaults for the rest. `settings set` writes a "
                        f"repaired file and keeps the damaged one as {path.name}.broken-<time>.")
    for key, value in _known(settings, parsed.raw):
        try:
            settings.set(key, value)
        except SettingsError as exc:
            lost.append(key)
            refused.append(f"{exc} Using the default ({settings.get(key)!r}).")
            problems.append(f"{path.name}: {refused[-1]}")
    return SettingsRead(settings, tuple(problems), tuple(lost), parsed.damage, tuple(refused))


def _keys(prefix: str, section: object) -> list[str]:
    keys = []
    for item in dataclasses.fields(section):  # type: ignore[arg-type]
        value = getattr(section, item.name)
        if dataclasses.is_dataclass(value):
            keys.extend(_keys(f"{prefix}.{item.name}", value))
        else:
            keys.append(f"{prefix}.{item.name}")
    return keys


def _known(settings: Settings, raw: dict[str, object]) -> list[tuple[str, object]]:
    """Known keys with their values; sections and keys from newer versions are kept out."""
    known = set(settings.keys())
    return [(key, value) for key, value in _flat(raw) if key in known]


def _flat(raw: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """(dotted key, value) of every value in ``raw`` below its top level."""
    found: list[tuple[str, object]] = []
    for name, value in raw.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            found.extend(_flat(value, key))
        elif prefix:
            found.append((key, value))
    return found


def save_settings(settings: Settings, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, tomli_w.dumps(settings.as_dict()))


def _split_key(settings: Settings, key: str) -> tuple[object, str]:
    parts = key.split(".")
    known = settings.keys()
    if key not in known:
        raise SettingsError(f"Unknown setting '{key}'. Known settings: {', '.join(known)}")
    section: object = settings
    for part in parts[:-1]:
        section = getattr(section, part)
    return section, parts[-1]


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
