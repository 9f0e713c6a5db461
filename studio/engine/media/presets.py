"""Social export presets: one JSON file per platform format in ``resources/presets/export``.

Every preset encodes H.264 High, yuv420p, AAC at 48 kHz, with the index at the front
(+faststart); a preset sets the frame, frame rate, length limits, CRF and bitrate cap, the
platform's safe area and the default subtitle look. A user's own files in
``<data>/presets/export`` are read after the built-ins and replace one with the same slug.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.errors import InvalidInput
from studio.resources import resource_path

BUILTIN_DIR = resource_path("presets", "export")
X264_SPEEDS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
               "slower", "veryslow")
POSITIONS = ("bottom", "middle", "top")


@dataclass(frozen=True, slots=True)
class SafeArea:
    """Fractions of the frame each platform's buttons and captions cover, per side."""

    top: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0


@dataclass(frozen=True, slots=True)
class SubtitleDefaults:
    font: str = "DejaVu Sans"
    size_px: int = 64
    outline_px: int = 4
    position: str = "bottom"


@dataclass(frozen=True, slots=True)
class ExportPreset:
    slug: str
    title: str
    platform: str
    width: int
    height: int
    fps: float
    min_duration_s: float
    max_duration_s: float
    crf: int
    maxrate_kbps: int
    bufsize_kbps: int
    speed: str  # x264's -preset
    audio_bitrate_kbps: int = 128
    audio_rate: int = 48000
    audio_channels: int = 2
    audio_required: bool = True  # a silent clip gets a silent track
    loudness_lufs: float = -14.0
    safe_area: SafeArea = SafeArea()
    subtitles: SubtitleDefaults = SubtitleDefaults()
    description: str = ""

    @property
    def aspect_label(self) -> str:
        from math import gcd
        divisor = gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"


def load_presets(user_dir: Path | None = None, builtin_dir: Path = BUILTIN_DIR
                 ) -> dict[str, ExportPreset]:
    """Presets by slug, built-ins first; a broken file is an InvalidInput naming it."""
    presets: dict[str, ExportPreset] = {}
    for folder in (builtin_dir, user_dir):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            preset = load_preset(path)
            presets[preset.slug] = preset
    return presets


def find_preset(slug: str, user_dir: Path | None = None) -> ExportPreset:
    presets = load_presets(user_dir)
    if slug not in presets:
        raise InvalidInput(f"There is no export preset '{slug}'; there are: "
                           f"{', '.join(sorted(presets))}.")
    return presets[slug]


def user_presets_dir(data_dir: Path) -> Path:
    return data_dir / "presets" / "export"


def load_preset(path: Path) -> ExportPreset:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _preset(data, path.stem)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"The export preset {path.name} cannot be read: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"The export preset {path.name} is not valid: {exc}") from None


def _preset(data: dict[str, Any], stem: str) -> ExportPreset:
    video, audio = data.get("video") or {}, data.get("audio") or {}
    preset = ExportPreset(
        slug=str(data.get("slug") or stem), title=str(data.get("title") or stem),
        platform=str(data.get("platform") or ""), description=str(data.get("description", "")),
        width=int(data["width"]), height=int(data["height"]), fps=float(data.get("fps", 30)),
        min_duration_s=float(data.get("min_duration_s", 0)),
        max_duration_s=float(data.get("max_duration_s", 0)) or float("inf"),
        crf=int(video.get("crf", 20)), maxrate_kbps=int(video.get("maxrate_kbps", 8000)),
        bufsize_kbps=int(video.get("bufsize_kbps") or 2 * int(video.get("maxrate_kbps", 8000))),
        speed=str(video.get("speed", "medium")),
        audio_bitrate_kbps=int(audio.get("bitrate_kbps", 128)),
        audio_rate=int(audio.get("sample_rate", 48000)),
        audio_channels=int(audio.get("channels", 2)), audio_required=bool(audio.get("required", True)),
        loudness_lufs=float(data.get("loudness_lufs", -14.0)),
        safe_area=SafeArea(**{k: float(v) for k, v in (data.get("safe_area") or {}).items()}),
        subtitles=SubtitleDefaults(**(data.get("subtitles") or {})))
    _check(preset)
    return preset


def _check(preset: ExportPreset) -> None:
    if preset.width % 2 or preset.height % 2 or preset.width < 16 or preset.height < 16:
        raise ValueError(f"width and height must be even and at least 16, not "
                         f"{preset.width}×{preset.height}")
    if not 1 <= preset.fps <= 120:
        raise ValueError(f"fps must be from 1 to 120, not {preset.fps}")
    if not 0 <= preset.crf <= 51:
        raise ValueError(f"crf must be from 0 to 51, not {preset.crf}")
    if preset.speed not in X264_SPEEDS:
        raise ValueError(f"speed must be one of {', '.join(X264_SPEEDS)}, not {preset.speed!r}")
    if preset.min_duration_s > preset.max_duration_s:
        raise ValueError("min_duration_s is above max_duration_s")
    if preset.subtitles.position not in POSITIONS:
        raise ValueError(f"subtitles.position must be one of {', '.join(POSITIONS)}")
    area = preset.safe_area
    if not all(0 <= v < 0.5 for v in (area.top, area.bottom, area.left, area.right)):
        raise ValueError("safe_area sides must be fractions from 0 to 0.5")
