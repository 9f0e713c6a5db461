"""Clips in a training export: written beside the pictures (caption ``.txt`` beside each, as
kohya and musubi-tuner both read them), and listed with their frames for musubi-tuner's video
dataset config.

A clip is copied byte for byte unless a trainer would read it wrong: musubi-tuner decodes
frames with PyAV and ignores a phone clip's display rotation, so a rotated clip is re-encoded
upright (H.264, no sound, fixed settings so the same clip gives the same bytes).
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from studio.engine.config import Settings
from studio.engine.datasets.video_items import CLIP_SUFFIXES, clip_rotation, read_clip
from studio.engine.errors import InvalidInput
from studio.engine.media.ffmpeg import find_ffmpeg
from studio.engine.media.thumbnails import read_source

REENCODE_TIMEOUT_S = 600  # a 30 s clip takes seconds; this only stops a hung FFmpeg


@dataclass(frozen=True, slots=True)
class VideoEntry:
    """One exported clip as a trainer reads it (after rotation)."""

    path: Path
    frames: int
    fps: float
    width: int
    height: int


def write_clip(settings: Settings, source: Path, stem: Path) -> str:
    """Writes the clip at ``stem`` plus its extension; returns the file name."""
    try:
        rotation = clip_rotation(source)
    except ValueError as exc:
        raise InvalidInput(f"{source.name} cannot be read for export: {exc}") from None
    if rotation == 0:
        target = stem.with_name(stem.name + source.suffix.lower())
        shutil.copyfile(source, target)
        return target.name
    target = stem.with_name(stem.name + ".mp4")
    _reencode_upright(settings, source, target)
    return target.name


def _reencode_upright(settings: Settings, source: Path, target: Path) -> None:
    """FFmpeg turns the picture by the display matrix while decoding (its default)."""
    argv = [find_ffmpeg(settings).exe, "-v", "error", "-nostdin", "-y", "-i", str(source), "-an",
            "-map_metadata", "-1", "-c:v", "libx264", "-preset", "medium", "-crf", "16",
            "-pix_fmt", "yuv420p", "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
            str(target)]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=REENCODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise InvalidInput(f"{source.name} could not be turned upright for export "
                           "(FFmpeg did not finish).") from None
    if done.returncode != 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
        raise InvalidInput(f"{source.name} could not be turned upright for export: {last}")


def video_entries(export_folder: Path) -> list[VideoEntry]:
    """The clips an export holds (in any subfolder), in path order, with what a video dataset
    config needs; frames are counted, not taken from the container's header."""
    clips = sorted(path for path in Path(export_folder).rglob("*")
                   if path.suffix.lower() in CLIP_SUFFIXES and path.is_file())
    return [_entry(path) for path in clips]


def _entry(path: Path) -> VideoEntry:
    try:
        info = read_clip(read_source(path), path.suffix).info
    except ValueError as exc:
        raise InvalidInput(f"The exported clip {path.name} cannot be read: {exc}") from None
    return VideoEntry(path=path, frames=info.frames, fps=info.fps, width=info.width, height=info.height)
