"""Bounds of every setting that has them, checked when a value is set and when the file is read.

Each rule raises a ``SettingsError`` whose one line names the key, what it takes and what it got.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from studio.engine.errors import SettingsError

Rule = Callable[[str, object], None]

ALLOWED: Mapping[str, tuple[str, ...]] = {
    "queue.backend": ("sqlite", "redis"),
    "ui.theme": ("system", "dark", "light"),
    "publish.visibility": ("public", "private"),
}
MAX_WORKERS = 64  # per queue on one machine: more only fights over one GPU and its memory
PUBLISH_PLATFORMS = ("instagram", "tiktok", "youtube")
WORKER_KEYS = ("generation_workers", "video_workers", "training_workers", "general_workers",
               "pipeline_workers")


def check_value(key: str, value: object) -> None:
    """Raises a SettingsError when ``value`` is out of ``key``'s bounds."""
    rule = RULES.get(key)
    if rule is not None:
        rule(key, value)


def one_of(*allowed: str) -> Rule:
    def rule(key: str, value: object) -> None:
        if value not in allowed:
            raise SettingsError(f"{key} must be one of {', '.join(allowed)}, not '{value}'.")
    return rule


def between(low: float, high: float, *, above_low: bool = False) -> Rule:
    """low..high inclusive; ``above_low`` makes the lower end exclusive (a heartbeat above 0)."""
    def rule(key: str, value: object) -> None:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
        too_low = number <= low if above_low else number < low
        if math.isnan(number) or too_low or number > high:
            lower = f"above {low:g}" if above_low else f"at least {low:g}"
            raise SettingsError(f"{key} must be {lower} and at most {high:g}, not {value}.")
    return rule


def url(*schemes: str, required: bool = False) -> Rule:
    """A URL with one of ``schemes`` (``postgresql`` takes ``postgresql+driver`` too) and a host."""
    def rule(key: str, value: object) -> None:
        text = str(value).strip()
        if not text and not required:
            return
        parts = urlsplit(text)
        scheme = parts.scheme.lower().split("+")[0]
        wanted = " or ".join(f"{s}://" for s in schemes)
        if scheme not in schemes or not parts.hostname:
            raise SettingsError(f"{key} must be a URL starting with {wanted} and naming a host, "
                                f"not '{text}'.")
        try:
            port = parts.port  # raises on a port outside 0-65535 or not a number
        except ValueError:
            port = -1
        if port is not None and not 1 <= port <= 65_535:
            raise SettingsError(f"{key} has a port that is not 1-65535: '{text}'.")
    return rule


def daily_time(key: str, value: object) -> None:
    daily = str(value).strip()
    if daily and not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", daily):
        raise SettingsError(f"{key} is a time like 09:30, not '{daily}'.")


# Numbers: (low, high, low end excluded). The preferences page sizes its number fields from these.
BOUNDS: Mapping[str, tuple[float, float, bool]] = {
    **{f"queue.{name}": (1, MAX_WORKERS, False) for name in WORKER_KEYS},
    "worker.heartbeat_interval_s": (0, 600, True),
    "worker.heartbeat_timeout_s": (0, 86_400, True),
    "comfyui.port": (1, 65_535, False),
    "pipeline.stagger_minutes": (0, 24 * 60, False),
    "pipeline.produce_ahead_hours": (0, 7 * 24, False),  # 0: off; a week ahead at most
    "pipeline.min_identity": (0, 1, False),  # 0: off
    "pipeline.identity_retries": (1, 20, False),
    "api.port": (1, 65_535, False),
    "api.requests_per_minute": (1, 1_000_000, False),
    "api.max_body_mb": (1, 100_000, False),
    **{f"publish.{p}.redirect_port": (0, 65_535, False) for p in PUBLISH_PLATFORMS},  # 0: a free port
}

RULES: Mapping[str, Rule] = {
    **{key: one_of(*allowed) for key, allowed in ALLOWED.items()},
    **{key: between(low, high, above_low=excluded) for key, (low, high, excluded) in BOUNDS.items()},
    "comfyui.url": url("http", "https", required=True),
    "llm.base_url": url("http", "https", required=True),
    "database.url": url("postgresql"),
    "server.database_url": url("postgresql"),
    "queue.redis_url": url("redis", "rediss"),
    "server.redis_url": url("redis", "rediss"),
    "server.s3_endpoint": url("http", "https"),
    "pipeline.daily_at": daily_time,
    "publish.public_url_prefix": url("http", "https"),
    **{f"publish.{p}.{k}": url("http", "https") for p in PUBLISH_PLATFORMS for k in ("base_url", "auth_url")},
}
