"""What a media file holds, as a typed value: container, duration, first video and audio stream.

PyAV reads the file with FFmpeg's own libraries (the bundled FFmpeg has no ffprobe). Whether
an MP4's index (moov) comes before its data (mdat), which platforms want for quick playback, is
read from the top-level boxes directly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from studio.engine.errors import InvalidInput

STILL_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
                 "gif_pipe")
STILL_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
_MP4_BRANDS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")


@dataclass(frozen=True, slots=True)
class VideoStream:
    codec: str  # "h264", "png", …
    profile: str  # "High" for H.264 High, "" when the codec has none
    width: int
    height: int
    pix_fmt: str  # "yuv420p", …
    fps: float  # average frame rate; 0 for a still image
    frames: int  # 0 when the container does not say
    rotation: int = 0  # degrees a player turns the picture (phone clips)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as a player shows them, after rotation."""
        turned = self.rotation % 180 == 90
        return (self.height, self.width) if turned else (self.width, self.height)


@dataclass(frozen=True, slots=True)
class AudioStream:
    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class MediaInfo:
    path: str
    format: str  # the demuxer's names, "mov,mp4,m4a,3gp,3g2,mj2"
    duration_s: float  # 0 for a still image
    size_bytes: int
    bit_rate: int
    video: VideoStream | None
    audio: AudioStream | None
    faststart: bool | None  # moov before mdat; None when the file is not MP4/MOV

    @property
    def is_still(self) -> bool:
        return self.video is not None and self.duration_s == 0

    @property
    def aspect(self) -> float:
        if self.video is None:
            return 0.0
        width, height = self.video.display_size
        return width / height if height else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for an Asset's metadata."""
        return {**asdict(self), "is_still": self.is_still}


def probe(path: Path | str) -> MediaInfo:
    """Reads ``path``; a missing file or one FFmpeg cannot read is InvalidInput in one line."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist or is not a file.")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _info(path, container)
    except av.FFmpegError as exc:
        raise InvalidInput(f"{path.name} is not a video, image or sound file FFmpeg can read "
                           f"({exc.strerror or exc}).") from None


def _info(path: Path, container: Any) -> MediaInfo:
    video = next(iter(container.streams.video), None)
    audio = next(iter(container.streams.audio), None)
    format_name = str(container.format.name)
    still = format_name in STILL_FORMATS or (
        path.suffix.lower() in STILL_SUFFIXES and video is not None and audio is None
        and (video.frames or 1) <= 1)
    duration = 0.0 if still else _duration(container, video, audio)
    return MediaInfo(
        path=str(path), format=format_name, duration_s=round(duration, 6),
        size_bytes=path.stat().st_size, bit_rate=int(container.bit_rate or 0),
        video=_video(container, video, still) if video is not None else None,
        audio=_audio(audio) if audio is not None else None,
        faststart=moov_before_mdat(path) if any(b in format_name for b in _MP4_BRANDS) else None)


def _duration(container: Any, *streams: Any) -> float:
    if container.duration:
        return float(container.duration) / av.time_base
    lengths = [float(s.duration * s.time_base) for s in streams
               if s is not None and s.duration and s.time_base]
    return max(lengths, default=0.0)


def _video(container: Any, stream: Any, still: bool) -> VideoStream:
    ctx = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate or Fraction(0)
    return VideoStream(
        codec=str(ctx.name), profile=str(ctx.profile or ""), width=int(ctx.width),
        height=int(ctx.height), pix_fmt=str(ctx.pix_fmt or ""),
        fps=0.0 if still else round(float(rate), 3), frames=int(stream.frames or 0),
        rotation=_rotation(container, stream))


def _rotation(container: Any, stream: Any) -> int:
    """Phones store portrait clips as landscape plus a display matrix saying "turn 90°". Older
    PyAV reports it on the stream; PyAV 18 only on each decoded frame, so the first is decoded."""
    for side_data in getattr(stream, "side_data", None) or ():
        rotation = getattr(side_data, "rotation", None)
        if rotation is not None:
            return round(-float(rotation)) % 360
    tagged = (stream.metadata or {}).get("rotate")
    if tagged and str(tagged).lstrip("-").isdigit():
        return int(tagged) % 360
    try:
        frame = next(container.decode(stream))
    except (av.FFmpegError, StopIteration, ValueError):
        return 0
    return round(-float(getattr(frame, "rotation", 0) or 0)) % 360


def _audio(stream: Any) -> AudioStream:
    ctx = stream.codec_context
    return AudioStream(codec=str(ctx.name), sample_rate=int(ctx.sample_rate or 0),
                       channels=int(ctx.channels or 0))


def moov_before_mdat(path: Path) -> bool | None:
    """True when the top-level ``moov`` box comes before ``mdat``; None if neither is found."""
    with path.open("rb") as handle:
        size = path.stat().st_size
        offset = 0
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if box_size == 1 and len(header) == 16:  # a 64-bit size follows the type
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:  # the box runs to the end of the file
                box_size = size - offset
            if kind in (b"moov", b"mdat"):
                return kind == b"moov"
            if box_size < 8:
                return None  # not a box structure we can walk
            offset += box_size
    return None
