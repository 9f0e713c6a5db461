"""musubi-tuner's dataset config (``--dataset_config``): an image dataset, and for Wan a video
dataset beside it, both over the exported folder.

The keys are those musubi-tuner's ConfigSanitizer accepts (dataset/config_utils.py, commit
30c658c): ``[general]`` takes only the keys every dataset shares (resolution, caption_extension,
batch_size, num_repeats, enable_bucket, bucket_no_upscale); each ``[[datasets]]`` names
``image_directory`` or ``video_directory`` and its own ``cache_directory``. The export keeps
pictures and clips in one folder with a caption ``.txt`` beside each; musubi-tuner's image
dataset reads only its pictures and its video dataset only its clips, so both point at it.
A video dataset's frames: ``target_frames`` (each N*4+1 for Wan, or it is cut down to one),
``frame_extraction`` (head, chunk, slide, uniform, full) with its ``frame_stride``,
``frame_sample`` or ``max_frames``. They come from the preset's ``[dataset]`` table.
"""
from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import tomli_w

from studio.engine.errors import InvalidInput
from studio.engine.training.config import PRESET_DIR, TrainingConfig

EXTRACTIONS = ("head", "chunk", "slide", "uniform", "full")
VIDEO_FAMILIES = ("wan22_14b", "wan22_5b")
DEFAULT_FRAMES = (1, 17, 33)  # ~2 s at Wan's 16 fps; each N*4+1


class Clip(Protocol):
    """What the export says of one clip (video_export.VideoEntry has these)."""

    @property
    def path(self) -> Path: ...

    @property
    def frames(self) -> int: ...


@dataclass(frozen=True, slots=True)
class VideoSettings:
    target_frames: tuple[int, ...] = DEFAULT_FRAMES
    frame_extraction: str = "head"
    frame_stride: int | None = None  # slide
    frame_sample: int | None = None  # uniform
    max_frames: int | None = None  # full
    source_fps: float | None = None  # None: every frame of the clip, whatever its rate


@dataclass(frozen=True, slots=True)
class MusubiData:
    """Where the exported pictures and clips are, and how many of each."""

    folder: Path
    images: int
    clips: int
    repeats: int
    cache_dir: Path


def video_settings(table: dict[str, Any]) -> VideoSettings:
    """A preset's ``[dataset]`` table as VideoSettings; a wrong value is one readable line."""
    try:
        frames = tuple(int(f) for f in table.get("target_frames", DEFAULT_FRAMES))
        settings = VideoSettings(
            target_frames=frames, frame_extraction=str(table.get("frame_extraction", "head")),
            frame_stride=_int_or_none(table.get("frame_stride")),
            frame_sample=_int_or_none(table.get("frame_sample")),
            max_frames=_int_or_none(table.get("max_frames")),
            source_fps=float(table["source_fps"]) if table.get("source_fps") is not None else None)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The preset's [dataset] table has a wrong value: {exc}.") from None
    problem = video_problem(settings)
    if problem:
        raise InvalidInput(problem)
    return settings


def video_problem(video: VideoSettings) -> str | None:
    """Why musubi-tuner would read these frames otherwise than the user meant, or None."""
    if not video.target_frames or any(f < 1 for f in video.target_frames):
        return "target_frames needs at least one frame count of 1 or more."
    odd = [f for f in video.target_frames if (f - 1) % 4]
    if odd:
        return (f"Wan takes clips of N*4+1 frames (1, 5, 9 … 33, 81); {', '.join(map(str, odd))} "
                "would be cut down silently: choose from those.")
    if video.frame_extraction not in EXTRACTIONS:
        return f"frame_extraction must be one of {', '.join(EXTRACTIONS)}, not '{video.frame_extraction}'."
    return None


def preset_table(slug: str, table: str, folder: Path = PRESET_DIR) -> dict[str, Any]:
    """One table (``dataset``, ``options``, ``models``) of a shipped preset; empty when it has
    none or the slug is not a shipped file."""
    try:
        data = tomllib.loads((folder / f"{slug}.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    found = data.get(table)
    return dict(found) if isinstance(found, dict) else {}


def dataset_config_text(config: TrainingConfig, data: MusubiData, video: VideoSettings | None) -> str:
    """The TOML musubi-tuner's caching scripts and trainer all read."""
    general: dict[str, Any] = {"resolution": [config.resolution, config.resolution],
                               "caption_extension": ".txt", "batch_size": config.train_batch_size,
                               "enable_bucket": config.enable_bucket, "bucket_no_upscale": False}
    repeats = config.num_repeats or data.repeats
    datasets: list[dict[str, Any]] = []
    if data.images or not (video and data.clips):
        datasets.append({"image_directory": str(data.folder),
                         "cache_directory": str(data.cache_dir / "images"), "num_repeats": repeats})
    if video is not None and data.clips:
        datasets.append({"video_directory": str(data.folder), "cache_directory": str(data.cache_dir / "videos"),
                         "num_repeats": repeats, **_video_keys(video)})
    return ("# Written by InfluencerAI Studio for kohya musubi-tuner (--dataset_config).\n\n"
            + tomli_w.dumps({"general": general, "datasets": datasets}))


def _video_keys(video: VideoSettings) -> dict[str, Any]:
    keys: dict[str, Any] = {"target_frames": list(video.target_frames),
                            "frame_extraction": video.frame_extraction}
    optional = {"frame_stride": video.frame_stride, "frame_sample": video.frame_sample,
                "max_frames": video.max_frames, "source_fps": video.source_fps}
    keys.update({k: v for k, v in optional.items() if v is not None})
    return keys


def clip_warnings(clips: Sequence[Clip], video: VideoSettings) -> list[str]:
    """Clips musubi-tuner would drop: with head/chunk/slide it takes a target length only from a
    clip that has that many frames, so one shorter than the smallest yields nothing."""
    if video.frame_extraction in ("full", "uniform"):
        return []
    shortest = min(video.target_frames)
    short = [c for c in clips if c.frames < shortest]
    if not short:
        return []
    names = ", ".join(c.path.name for c in short[:3]) + (" …" if len(short) > 3 else "")
    return [f"{len(short)} clip(s) have fewer than {shortest} frames and would not be trained on: {names}."]


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    return int(value)
