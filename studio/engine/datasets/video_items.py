"""Short clips as dataset items (motion LoRAs for Wan): probed, refused plainly, and looked at
through one frame.

A clip is stored like a picture (content hash, storage key, caption); what only a clip has
(duration, frame rate, frame count, codec) lives under ``"clip"`` in the row's ``quality`` JSON,
so no column is added. Its thumbnail and its analysis (blur, faces, near-duplicates) use the
first frame: for image-to-video training the first frame is the picture the clip starts from,
and it is the one frame that needs no seeking. The file is demuxed to its end when imported, so
a clip cut short is found out as a damaged picture is.
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import av
from PIL import Image

from studio.engine.datasets.analysis import CLIP_KEY, ImageAnalysis, analyze_decoded
from studio.engine.media.thumbnails import Decoded, read_source, shrunk

MAX_CLIP_SECONDS = 30.0  # trainers cut clips into a few seconds of frames; longer is a mistake
CLIP_SUFFIXES = (".mp4", ".m4v", ".webm", ".mov")
CLIP_FORMATS = {"MP4": ".mp4", "WEBM": ".webm", "MOV": ".mov"}  # stored format → extension
_MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"  # FFmpeg's one demuxer for MP4 and QuickTime


@dataclass(frozen=True, slots=True)
class ClipInfo:
    duration_s: float
    fps: float
    frames: int
    width: int  # as a player shows it, after rotation
    height: int
    codec: str  # "h264", "vp9", …
    rotation: int = 0  # degrees a player turns the picture (phone clips); exports re-encode these

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_quality(cls, quality: dict[str, Any] | None) -> ClipInfo | None:
        """The clip facts kept in a row's ``quality``; None for a picture (or unreadable facts)."""
        found = (quality or {}).get(CLIP_KEY)
        if not isinstance(found, dict):
            return None
        try:
            return cls(duration_s=float(found["duration_s"]), fps=float(found["fps"]),
                       frames=int(found["frames"]), width=int(found["width"]),
                       height=int(found["height"]), codec=str(found.get("codec", "")),
                       rotation=int(found.get("rotation", 0)))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class Clip:
    info: ClipInfo
    format: str  # a key of CLIP_FORMATS
    frame: Decoded  # the first frame, upright, at full size


def is_clip_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in CLIP_SUFFIXES


def read_clip(data: bytes, suffix: str) -> Clip:
    """The clip's facts and first frame; ValueError with the reason it is refused (not a clip
    FFmpeg reads, no video in it, no frames, too long)."""
    try:
        with av.open(io.BytesIO(data), metadata_errors="ignore") as container:
            return _read(container, suffix.lower())
    except av.FFmpegError as exc:
        raise ValueError(f"not a video FFmpeg can read ({exc.strerror or exc})") from None
    except MemoryError:
        raise ValueError("too large to decode in memory") from None


def _read(container: Any, suffix: str) -> Clip:
    fmt = _format(str(container.format.name), suffix)
    stream = next(iter(container.streams.video), None)
    if stream is None:
        raise ValueError("holds no video (a sound file, or a clip with no frames)")
    frames, first = _scan(container, stream)
    if first is None or frames == 0:
        raise ValueError("holds no frames (an empty clip)")
    fps = round(float(stream.average_rate or stream.guessed_rate or 0), 3)
    duration = _duration(container, stream) or (frames / fps if fps else 0.0)
    if duration > MAX_CLIP_SECONDS:
        raise ValueError(f"too long for training ({duration:.1f} s; at most {MAX_CLIP_SECONDS:.0f} s)")
    rotation = _rotation(first)
    image = upright_frame(first.to_image(), rotation)
    info = ClipInfo(duration_s=round(duration, 3), fps=fps, frames=frames, width=image.width,
                    height=image.height, codec=str(stream.codec_context.name), rotation=rotation)
    return Clip(info, fmt, Decoded(image=image, width=image.width, height=image.height, format=fmt))


def _format(demuxer: str, suffix: str) -> str:
    """The stored format from what FFmpeg found, not from the name: a name picks only between
    MP4 and MOV, which are one container."""
    if demuxer == _MP4_FAMILY:
        return "MOV" if suffix == ".mov" else "MP4"
    if demuxer == "matroska,webm":
        return "WEBM"
    raise ValueError(f"not an MP4, WebM or MOV clip (FFmpeg reads it as {demuxer})")


def _scan(container: Any, stream: Any) -> tuple[int, Any]:
    """The number of frames (packets of the video stream, read to the end) and the first
    decoded frame (None when none decodes)."""
    count, first = 0, None
    for packet in container.demux(stream):
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        count += 1
        if first is None:
            first = next(iter(packet.decode()), None)
    if first is None and count:  # a decoder with a delay (B-frames) hands frames out at the end
        first = next(iter(stream.codec_context.decode(None)), None)
    return count, first


def _duration(container: Any, stream: Any) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return float(container.duration) / av.time_base if container.duration else 0.0


def _rotation(frame: Any) -> int:
    return round(float(getattr(frame, "rotation", 0) or 0)) % 360


def upright_frame(image: Image.Image, rotation: int) -> Image.Image:
    """The frame as a player shows it (PyAV gives the display matrix's turn counter-clockwise)."""
    image = image.convert("RGB")
    return image.rotate(rotation, expand=True) if rotation % 360 else image


def first_frame(path: Path, max_side: int | None = None) -> Image.Image:
    """Blocking: the clip's first frame, upright, within ``max_side``; for thumbnails made when
    shown and the preview. ValueError with a reason when it cannot be decoded."""
    image = _upright(_first(path))
    return shrunk(image, max_side) if max_side else image


def clip_rotation(path: Path) -> int:
    """The turn a player gives the clip; read from its first frame, where PyAV reports the
    display matrix (its streams no longer do). ValueError when no frame decodes."""
    return _rotation(_first(path))


def clip_frames(path: Path, count: int = 3) -> list[Image.Image]:
    """``count`` frames spread over the clip, the first and the last among them, upright: what a
    vision model is shown to caption a clip's motion. ValueError when the clip cannot be decoded."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            targets = [duration * i / max(count - 1, 1) for i in range(max(count - 1, 0))]
            picked: list[Image.Image] = []
            last: Any = None
            frame: Any
            for frame in container.decode(stream):
                last = frame
                if len(picked) < len(targets) and (frame.time or 0.0) >= targets[len(picked)] - 1e-6:
                    picked.append(_upright(frame))
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise ValueError(f"no frame could be read from {path.name} ({exc})") from None
    if last is None:
        raise ValueError(f"no frame could be read from {path.name}")
    return [*picked, _upright(last)][:count]


def _upright(frame: Any) -> Image.Image:
    return upright_frame(frame.to_image(), _rotation(frame))


def _first(path: Path) -> Any:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return next(container.decode(container.streams.video[0]))
    except (av.FFmpegError, IndexError, StopIteration, OSError) as exc:
        raise ValueError(f"no frame could be read from {path.name} ({exc})") from None


def analyze_clip(path: Path) -> ImageAnalysis:
    """The analysis of the clip's first frame, with the clip's facts in its quality (the
    analysis job rewrites ``quality`` whole, so they travel with it)."""
    clip = read_clip(read_source(path), path.suffix)
    return with_clip(analyze_decoded(clip.frame), clip.info)


def with_clip(analysis: ImageAnalysis, info: ClipInfo) -> ImageAnalysis:
    """The frame's analysis as the clip's. No perceptual hash, so a clip is never grouped as a
    near-duplicate (and left out of an export): clips made from one still start alike and
    move differently, and a clip is not the same training item as the still it starts from."""
    return ImageAnalysis(phash="", faces=analysis.faces,
                         quality={**analysis.quality, CLIP_KEY: info.to_dict()})


def describe(info: ClipInfo) -> str:
    """"2.0 s · 25 fps · 50 frames": what the grid and the details show of a clip."""
    return f"{info.duration_s:.1f} s · {info.fps:g} fps · {info.frames} frames"
