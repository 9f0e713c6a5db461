"""What the preferences page shows for each setting: label, one-line description, group, editor
kind, unit and range.

Kinds come from the settings dataclasses' field types, choices and ranges from the engine's
checks, so a setting added to ``studio.engine.config`` shows up at once (under Advanced, with a
plain editor) before anyone writes its words here. Nothing here imports Qt.
"""
from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from studio.engine.config import Settings
from studio.engine.errors import SettingsError
from studio.engine.settings_checks import ALLOWED, BOUNDS

GROUPS = ("General", "ComfyUI", "Training tools", "LLM", "Automation", "Team server", "Advanced")
ADVANCED = "Advanced"
RESTART = "Restart the studio to apply."


class Kind(StrEnum):
    CHECK = "check"
    CHOICE = "choice"
    INT = "int"
    FLOAT = "float"
    TEXT = "text"
    FOLDER = "folder"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Meta:
    """What a person writes about one setting; the rest is derived."""

    label: str
    description: str
    group: str
    section: str = ""  # a sub-heading inside the group's page
    kind: Kind | None = None  # None: from the field's type
    unit: str = ""  # shown after a number, with its space: " s"
    placeholder: str = ""
    read_only: bool = False
    restart: bool = False  # read once when the studio (or its worker) starts
    short: bool = False  # a short value (a time, a host): a narrow field


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    label: str
    description: str
    group: str
    section: str
    kind: Kind
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_excluded: bool = False
    choices: tuple[str, ...] = ()
    placeholder: str = ""
    read_only: bool = False
    restart: bool = False
    short: bool = False

    @property
    def range_text(self) -> str:
        if self.low is None or self.high is None:
            return ""
        lower = f"above {self.low:g}" if self.low_excluded else f"at least {self.low:g}"
        return f"Must be {lower} and at most {self.high:g}{self.unit}."


def _m(label: str, description: str, group: str, section: str = "", **extra: typing.Any) -> Meta:
    return Meta(label, description, group, section, **extra)


_G, _C, _T, _L, _U, _S, _A = GROUPS


def _platform(name: str) -> dict[str, Meta]:
    return {"enabled": _m(f"Post to {name} at the item's time", "Off: finished posts wait for you "
                          "to post them.", _U, name),
            "client_id": _m("App client id", f"The {name} app the studio signs in with.", _U, name),
            "base_url": _m("API address", "Empty: the platform's own (a proxy or test server here).",
                           _U, name),
            "auth_url": _m("Sign-in address", "Empty: the platform's own.", _U, name),
            "redirect_port": _m("Sign-in return port", "The port of http://127.0.0.1:PORT/callback "
                                "registered with the app; 0: any free port.", _U, name)}
_WORKERS = "The worker reads this when it starts."
TABLE: Mapping[str, Meta] = {
    "general.current_workspace": _m("Current workspace", "Chosen with the workspace switcher at the top.",
                                    _G, "Workspace", read_only=True),
    "ui.theme": _m("Theme", "Light, dark, or whatever the system uses.", _G, "Appearance"),
    "general.data_dir": _m("Data folder", f"Database, pictures and models. Empty: the standard place. "
                           f"{RESTART}", _G, "Folders", kind=Kind.FOLDER, restart=True),
    "pipeline.publish_dir": _m("Publish folder", "Finished posts are copied here. Empty: publish/ in "
                               "the data folder.", _G, "Folders", kind=Kind.FOLDER),
    "ffmpeg.path": _m("FFmpeg program", "Empty: FFmpeg on the PATH, else the copy that comes with the "
                      "studio.", _G, "Folders", kind=Kind.FILE),
    "pipeline.daily_at": _m("Daily run at", "Today's approved posts are made at this local time. "
                            "Empty: off.", _G, "Daily posting", placeholder="HH:MM", short=True),
    "pipeline.stagger_minutes": _m("Gap between posts", "Time between the posts the daily run starts.",
                                   _G, "Daily posting", unit=" min"),
    "pipeline.template": _m("Picture workflow", "The workflow that makes a post's picture, with the "
                            "influencer's active LoRA.", _G, "Daily posting"),
    "pipeline.checkpoint": _m("Checkpoint", "The model for post pictures. Empty: the workflow's own.",
                              _G, "Daily posting"),
    "pipeline.video_template": _m("Video workflow", "The workflow for posts with a motion prompt.",
                                  _G, "Daily posting"),
    "pipeline.produce_ahead_hours": _m("Produce ahead", "An approved post with a time is made this "
                                       "long before it goes out. 0: off.", _G, "Daily posting", unit=" h"),
    "pipeline.min_identity": _m("Minimum likeness", "A post's picture must score at least this like her "
                                "(0.5: the same person); others are made again. 0: off.", _G, "Daily posting"),
    "pipeline.identity_retries": _m("Pictures to try", "How many pictures, each with a new seed, before "
                                    "the post stops for want of likeness.", _G, "Daily posting"),
    "comfyui.url": _m("Address", "Where ComfyUI listens, e.g. http://127.0.0.1:8188.", _C, "Connection"),
    "comfyui.loras_dir": _m("LoRA folder", "Trained LoRAs are placed here for ComfyUI. Empty: "
                            "models/loras in the ComfyUI folder.", _C, "Connection", kind=Kind.FOLDER),
    "comfyui.folder": _m("ComfyUI folder", "Your ComfyUI checkout (holds main.py). Empty: only connect "
                         "to the address.", _C, "Start ComfyUI from the studio", kind=Kind.FOLDER),
    "comfyui.python": _m("Python", "Empty: the folder's venv or .venv, else the studio's own Python.",
                         _C, "Start ComfyUI from the studio", kind=Kind.FILE),
    "comfyui.autostart": _m("Start ComfyUI with the studio", "Starts it from the folder above when "
                            "the studio opens.", _C, "Start ComfyUI from the studio"),
    "comfyui.listen": _m("Listen on", "The network address ComfyUI takes; 0.0.0.0 lets other "
                         "machines in.", _C, "Start ComfyUI from the studio", short=True),
    "comfyui.port": _m("Port", "The port ComfyUI listens on when the studio starts it.",
                       _C, "Start ComfyUI from the studio"),
    "comfyui.extra_args": _m("Extra arguments", "Added to ComfyUI's command line, e.g. --lowvram.",
                             _C, "Start ComfyUI from the studio"),
    "sdscripts.folder": _m("sd-scripts folder", "Your kohya sd-scripts checkout; LoRA training runs "
                           "its scripts.", _T, "kohya sd-scripts", kind=Kind.FOLDER),
    "sdscripts.python": _m("Python", "Empty: the folder's venv Python, else the system's.", _T,
                           "kohya sd-scripts", kind=Kind.FILE),
    "musubi.folder": _m("musubi-tuner folder", "Your kohya musubi-tuner checkout; Qwen-Image and "
                        "Wan 2.2 LoRAs train with its scripts.", _T, "kohya musubi-tuner", kind=Kind.FOLDER),
    "musubi.python": _m("Python", "Empty: the folder's venv Python, else the system's.", _T,
                        "kohya musubi-tuner", kind=Kind.FILE),
    "llm.base_url": _m("API address", "An OpenAI-compatible endpoint; OpenRouter by default.", _L,
                       "Service"),
    "llm.model": _m("Model", "The model for captions and prompts.", _L, "Service",
                    placeholder="e.g. openai/gpt-4o-mini"),
    "llm.plan_model": _m("Content plan model", "A text model for content plans. Empty: the model "
                         "above.", _L, "Service"),
    "llm.fallback_models": _m("Fallback models", "Model ids, comma-separated, tried in order when "
                              "the first fails.", _L, "Service"),
    "api.autostart": _m("Start the API with the studio", "The app and the worker also serve the local "
                        "HTTP API.", _U, "Local HTTP API", restart=True),
    "api.host": _m("Address", "127.0.0.1 keeps it on this machine; another address needs TLS.",
                   _U, "Local HTTP API", short=True, restart=True),
    "api.port": _m("Port", "The port the API listens on.", _U, "Local HTTP API", restart=True),
    "api.tls_cert": _m("TLS certificate", "PEM file; with the key below the API serves https.",
                       _U, "Local HTTP API", kind=Kind.FILE, restart=True),
    "api.tls_key": _m("TLS key", "PEM file of the certificate's private key.", _U, "Local HTTP API",
                      kind=Kind.FILE, restart=True),
    "api.requests_per_minute": _m("Requests per minute", "Per token; more are answered 429.",
                                  _U, "Local HTTP API", restart=True),
    "api.max_body_mb": _m("Largest request", "Uploads included.", _U, "Local HTTP API", unit=" MB",
                          restart=True),
    "publish.ai_disclosure": _m("Label posts as AI-made", "Sets each platform's AI-generated "
                                "content flag.", _U, "Publishing"),
    "publish.visibility": _m("Posts are", "public, or private (TikTok: the most private level the "
                             "account offers; YouTube: private).", _U, "Publishing"),
    "publish.public_url_prefix": _m("Public media address", "Where Instagram can fetch the media "
                                    "(a public bucket or site). Empty: the team server's S3.",
                                    _U, "Publishing"),
    **{f"publish.{p}.{k}": meta for p, name in (("instagram", "Instagram"), ("tiktok", "TikTok"),
                                                ("youtube", "YouTube"))
       for k, meta in _platform(name).items()},
    "server.database_url": _m("PostgreSQL address", "e.g. postgresql://studio@server:5432/studio; "
                              "the password is kept below.", _S, "Server"),
    "server.redis_url": _m("Redis address", "e.g. redis://server:6379/0 (rediss:// for TLS).", _S, "Server"),
    "server.s3_endpoint": _m("S3 / MinIO address", "e.g. https://server:9000.", _S, "Server"),
    "server.s3_bucket": _m("Bucket", "The bucket that holds the team's files.", _S, "Server", short=True),
    "server.s3_access_key": _m("Access key", "The S3 access key id; its secret is kept below.",
                               _S, "Server"),
    "server.s3_ca_bundle": _m("CA certificate", "A private CA for an https S3 address. Empty: the "
                              "system's.", _S, "Server", kind=Kind.FILE),
    "database.url": _m("Database in use", f"Empty: the SQLite file in the data folder. {RESTART}",
                       _S, "This studio uses", restart=True),
    "queue.backend": _m("Queue", f"sqlite needs no server; redis is for team mode. {RESTART}",
                        _S, "This studio uses", restart=True),
    "queue.redis_url": _m("Queue Redis address", f"The Redis the redis queue uses. {RESTART}",
                          _S, "This studio uses", restart=True),
    "queue.generation_workers": _m("Pictures at once", f"Image generations run side by side. {_WORKERS}",
                                   _A, "Workers", restart=True),
    "queue.video_workers": _m("Videos at once", f"Video renders run side by side. {_WORKERS}",
                              _A, "Workers", restart=True),
    "queue.training_workers": _m("Trainings at once", f"More than 1 only with several GPUs. {_WORKERS}",
                                 _A, "Workers", restart=True),
    "queue.general_workers": _m("Other jobs at once", f"Imports, thumbnails, exports, LLM calls. "
                                f"{_WORKERS}", _A, "Workers", restart=True),
    "queue.pipeline_workers": _m("Pipelines at once", f"Pipelines mostly wait for their steps. "
                                 f"{_WORKERS}", _A, "Workers", restart=True),
    "worker.heartbeat_interval_s": _m("Heartbeat every", "How often a worker says it is alive.",
                                      _A, "Heartbeats", unit=" s", restart=True),
    "worker.heartbeat_timeout_s": _m("Worker gone after", "A job whose worker is silent this long "
                                     "is retried or failed.", _A, "Heartbeats", unit=" s"),
    "general.first_run_done": _m("Getting-started guide done", "Untick to see the guide at the "
                                 "next start.", _A, "Other"),
}


@dataclass(frozen=True, slots=True)
class Relation:
    """A bound between two settings; the reason shows beside ``key``."""

    key: str
    other: str
    holds: Callable[[float, float], bool]  # (key's value, other's value)
    reason: str  # {other}: the other's value


RELATIONS = (
    # A worker is taken for gone once silent this long: shorter than two beats, busy workers
    # would look gone and their jobs be taken from them.
    Relation("worker.heartbeat_timeout_s", "worker.heartbeat_interval_s", lambda gone, beat: gone >= 2 * beat,
             "Must be at least twice the heartbeat ({other:g} s), or busy workers look gone."),
)


def relation_problems(values: Mapping[str, object]) -> dict[str, str]:
    """Reasons, by key, for the relations ``values`` break (numbers only; others are checked alone)."""
    found: dict[str, str] = {}
    for relation in RELATIONS:
        mine, other = values.get(relation.key), values.get(relation.other)
        if isinstance(mine, int | float) and isinstance(other, int | float) and not relation.holds(mine, other):
            found[relation.key] = relation.reason.format(other=other)
    return found


def field_specs(table: Mapping[str, Meta] = TABLE) -> list[FieldSpec]:
    """Every setting, in group order, then table order; settings the table lacks come last,
    under Advanced."""
    order = list(table)
    settings = Settings()
    keys = settings.keys()  # Settings is not a mapping; keys() lists 'section.name'
    specs = [_spec(key, table.get(key), _field_type(settings, key)) for key in keys]
    return sorted(specs, key=lambda s: (GROUPS.index(s.group),
                                        order.index(s.key) if s.key in order else len(order)))


def _spec(key: str, meta: Meta | None, kind_of: type) -> FieldSpec:
    meta = meta or _generic(key)
    low, high, excluded = BOUNDS.get(key, (None, None, False))
    return FieldSpec(key=key, label=meta.label, description=meta.description, group=meta.group,
                     section=meta.section, kind=meta.kind or _kind(key, kind_of), unit=meta.unit,
                     low=low, high=high, low_excluded=excluded, choices=tuple(ALLOWED.get(key, ())),
                     placeholder=meta.placeholder, read_only=meta.read_only, restart=meta.restart,
                     short=meta.short)


def _generic(key: str) -> Meta:
    name = " ".join(key.split(".")[1:])
    return Meta(name.replace("_", " ").capitalize(), f"The setting {key}.", ADVANCED, "Other")


def _kind(key: str, kind_of: type) -> Kind:
    if kind_of is bool:
        return Kind.CHECK
    if kind_of is int:
        return Kind.INT
    if kind_of is float:
        return Kind.FLOAT
    if key in ALLOWED:
        return Kind.CHOICE
    name = key.split(".")[-1]
    return Kind.FOLDER if name.endswith(("_dir", "folder")) else Kind.TEXT


def _field_type(settings: Settings, key: str) -> type:
    *path, name = key.split(".")
    section: object = settings
    for part in path:  # a section may hold sub-sections: publish.instagram.base_url
        section = getattr(section, part)
    hints = typing.get_type_hints(type(section))
    return typing.cast(type, hints[name])


def problem_with(key: str, value: object) -> str:
    """Why the engine refuses ``value`` for ``key``, as a line to show beside the field; "" when
    it takes it. The settings' own checks decide, so the page and `settings set` agree."""
    try:
        Settings().set(key, value)
    except SettingsError as exc:
        return _without_key(key, str(exc))
    return ""


def _without_key(key: str, text: str) -> str:
    """'comfyui.url must be…' reads as 'Must be…' next to the field it is about."""
    if text.startswith(f"{key} "):
        rest = text[len(key) + 1:]
        return rest[:1].upper() + rest[1:]
    return text.replace(f" for {key}", "")

