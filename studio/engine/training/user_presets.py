"""The user's own training presets: a training form saved under a name, kept as JSON in the
config folder (``training-presets/<slug>.json``), written atomically, listed beside the built-in
presets and deletable.

A user preset names the built-in preset it started from and holds every field's value as the
form showed it, so loading it gives back exactly the form that was saved; the job still records
only what differs from the built-in preset.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.engine.errors import InvalidInput, NotFound
from studio.engine.fsutil import atomic_write_text

FOLDER = "training-presets"
MAX_NAME = 60


@dataclass(frozen=True, slots=True)
class UserPreset:
    slug: str
    name: str
    base: str  # the built-in preset's slug
    values: dict[str, Any] = field(default_factory=dict)


def presets_dir(config_dir: Path) -> Path:
    return Path(config_dir) / FOLDER


def slug_of(name: str) -> str:
    """``My SDXL, fast!`` → ``my-sdxl-fast``."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def save_user_preset(config_dir: Path, *, name: str, base: str, values: dict[str, Any]) -> UserPreset:
    """Writes (or replaces) the preset called ``name``."""
    name = " ".join(name.split())
    slug = slug_of(name)
    if not slug or len(name) > MAX_NAME:
        raise InvalidInput(f"A preset name has letters or digits and at most {MAX_NAME} characters.")
    preset = UserPreset(slug=slug, name=name, base=base,
                        values={k: list(v) if isinstance(v, tuple) else v for k, v in values.items()})
    text = json.dumps({"name": preset.name, "base": preset.base, "values": preset.values},
                      indent=2, sort_keys=True)
    presets_dir(config_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(presets_dir(config_dir) / f"{slug}.json", text + "\n")
    return preset


def load_user_presets(config_dir: Path) -> list[UserPreset]:
    """Every readable user preset, by name; a damaged file is passed over, not fatal."""
    folder = presets_dir(config_dir)
    found = [p for p in (_read(path) for path in sorted(folder.glob("*.json"))) if p is not None] \
        if folder.is_dir() else []
    return sorted(found, key=lambda p: p.name.casefold())


def delete_user_preset(config_dir: Path, slug: str) -> None:
    path = presets_dir(config_dir) / f"{slug_of(slug)}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        raise NotFound(f"There is no preset {slug} to delete.") from None


def _read(path: Path) -> UserPreset | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("values"), dict):
        return None
    return UserPreset(slug=path.stem, name=str(raw.get("name") or path.stem),
                      base=str(raw.get("base") or ""), values=raw["values"])
