"""Stills in and out of clips: an image sequence assembled into a clip, a cover frame taken out.

ComfyUI workflows that save frames one by one (SaveImage after AnimateDiff) hand back an image
sequence; ``assemble_frames`` makes it one H.264 clip. ``cover_frame`` writes the JPEG the
platforms show before a video plays.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput
from studio.engine.media.ffmpeg import find_ffmpeg
from studio.engine.media.probe import probe
from studio.engine.media.render import CancelCheck, ProgressCallback, run_ffmpeg

if TYPE_CHECKING:
    import numpy as np

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def assemble_frames(settings: Settings, frames: list[Path], fps: float, output: Path, *,
                    on_progress: ProgressCallback | None = None,
                    cancel: CancelCheck | None = None) -> Path:
    """Frames in the order given, ``fps`` a second, as an H.264 yuv420p clip at ``output``."""
    if not frames:
        raise InvalidInput("There are no frames to put together.")
    if not 1 <= fps <= 120:
        raise InvalidInput(f"The frame rate must be from 1 to 120, not {fps:g}.")
    suffixes = {f.suffix.lower() for f in frames}
    if len(suffixes) != 1 or not suffixes <= set(FRAME_SUFFIXES):
        raise InvalidInput("The frames must all be PNG, JPEG or WebP images of one kind.")
    exe = find_ffmpeg(settings).exe
    with tempfile.TemporaryDirectory(prefix="studio-frames-") as folder:
        # Numbered names in a folder of our own: FFmpeg's %05d pattern would trip over a '%'
        # in the user's paths, and links cost nothing.
        suffix = suffixes.pop()
        for index, frame in enumerate(frames):
            _link(frame, Path(folder) / f"{index:05d}{suffix}")
        argv = [exe, "-hide_banner", "-nostdin", "-y", "-framerate", f"{fps:g}",
                "-i", str(Path(folder) / f"%05d{suffix}"),
                "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p",
                "-c:v", "libx264", "-preset", "medium", "-crf", "16", "-movflags", "+faststart",
                "-progress", "pipe:1", "-nostats", str(output)]
        run_ffmpeg(argv, total_s=len(frames) / fps, output=output, on_progress=on_progress,
                   cancel=cancel)
    return output


def cover_frame(settings: Settings, video: Path, at_s: float, output: Path, *,
                width: int | None = None) -> Path:
    """The frame at ``at_s`` seconds as a JPEG; a time past the end takes the last frame."""
    info = probe(video)
    if info.video is None:
        raise InvalidInput(f"{Path(video).name} has no picture to take a cover from.")
    if at_s < 0:
        raise InvalidInput("The cover time must be 0 or later.")
    if output.suffix.lower() not in (".jpg", ".jpeg"):
        raise InvalidInput(f"A cover frame is a .jpg file, not '{output.name}'.")
    last = max(0.0, info.duration_s - 1.0 / (info.video.fps or 30))
    at = min(at_s, last)
    scale = ["-vf", f"scale={width}:-2"] if width else []
    argv = [find_ffmpeg(settings).exe, "-hide_banner", "-nostdin", "-y", "-ss", f"{at:.3f}",
            "-i", str(video), "-frames:v", "1", *scale, "-q:v", "2", "-update", "1",
            "-map_metadata", "-1", str(output)]
    run_ffmpeg(argv, output=output)
    return output


def _link(source: Path, target: Path) -> None:
    try:
        os.symlink(Path(source).absolute(), target)
    except OSError:  # no symlinks here (Windows without the right): copy instead
        shutil.copyfile(source, target)


def frame_at(video: Path, at_s: float, *, max_side: int = 720) -> np.ndarray:
    """The RGB frame shown at ``at_s`` seconds (a still image's only frame), at most
    ``max_side`` pixels on its longer side; for previews."""
    import av
    import numpy as np
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            if at_s > 0 and stream.time_base:
                container.seek(int(at_s / stream.time_base), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.pts is None or frame.time >= at_s - 1e-3:  # a frame without pts has no time
                    break
    except (av.FFmpegError, IndexError):
        raise InvalidInput(f"{Path(video).name} has no picture to show.") from None
    if chosen is None:
        raise InvalidInput(f"{Path(video).name} has no picture to show.")
    scale = min(1.0, max_side / max(chosen.width, chosen.height))
    width, height = max(2, int(chosen.width * scale)), max(2, int(chosen.height * scale))
    return np.ascontiguousarray(chosen.reformat(width=width, height=height, format="rgb24").to_ndarray())
