"""Which FFmpeg the studio runs, and whether that build can do what the studio asks of it.

Order: the ``ffmpeg.path`` setting, then ``ffmpeg`` on PATH, then the binary that the
imageio-ffmpeg package ships (the bundled default, so a new user needs nothing else).
"""
from __future__ import annotations

import functools
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from studio.engine.config import Settings
from studio.engine.errors import StudioError
from studio.engine.tools import first_line, run_tool

# What the finishing steps use: name shown to the user, listing to look in, entry to find.
NEEDED = (("libx264", "encoders", "libx264"), ("subtitles (libass)", "filters", "subtitles"),
          ("loudnorm", "filters", "loudnorm"))


class FFmpegUnavailable(StudioError):
    """No usable FFmpeg, or one that lacks an encoder or filter the studio needs."""


@dataclass(frozen=True, slots=True)
class FFmpegBuild:
    version: str  # the first line of ``ffmpeg -version``
    lacking: tuple[str, ...]  # names from NEEDED this build does not have
    error: str = ""  # why it does not run at all


@dataclass(frozen=True, slots=True)
class FFmpeg:
    """A located FFmpeg that runs and has everything in NEEDED."""

    exe: str
    source: str  # "ffmpeg.path", "PATH" or "imageio-ffmpeg"
    version: str


def locate(settings: Settings) -> tuple[str | None, str]:
    """(executable, where it came from); (None, path) when the configured path is missing,
    (None, "") when there is none at all."""
    configured = settings.ffmpeg.path
    if configured:
        path = Path(configured).expanduser()
        return (str(path), "ffmpeg.path") if path.is_file() else (None, str(path))
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path, "PATH"
    bundled = bundled_ffmpeg()
    return (bundled, "imageio-ffmpeg") if bundled else (None, "")


def bundled_ffmpeg() -> str | None:
    if importlib.util.find_spec("imageio_ffmpeg") is None:
        return None
    import imageio_ffmpeg
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:  # the package is there but its binary is not (an odd platform)
        return None


def inspect_build(exe: str) -> FFmpegBuild:
    """What a build can do; cached per file version, as the status bar asks every few seconds."""
    stat = Path(exe).stat()
    return _inspect(exe, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _inspect(exe: str, _mtime_ns: int, _size: int) -> FFmpegBuild:
    version = run_tool([exe, "-hide_banner", "-version"])
    if version.returncode != 0:
        return FFmpegBuild("", (), first_line(version.stderr) or f"exit code {version.returncode}")
    listings = {kind: run_tool([exe, "-hide_banner", f"-{kind}"]).stdout
                for kind in {kind for _, kind, _ in NEEDED}}
    lacking = tuple(label for label, kind, entry in NEEDED if not _listed(listings[kind], entry))
    return FFmpegBuild(first_line(version.stdout), lacking)


def find_ffmpeg(settings: Settings) -> FFmpeg:
    """The FFmpeg to run, or FFmpegUnavailable saying in one sentence what is wrong."""
    exe, source = locate(settings)
    if exe is None:
        if source:
            raise FFmpegUnavailable(f"ffmpeg.path points at {source}, which does not exist; fix "
                                    "it in Settings or clear it to use the bundled FFmpeg.")
        raise FFmpegUnavailable("No FFmpeg found: install the imageio-ffmpeg package or FFmpeg, "
                                "or set ffmpeg.path in Settings.")
    build = inspect_build(exe)
    if build.error:
        raise FFmpegUnavailable(f"The FFmpeg at {exe} does not run: {build.error}.")
    if build.lacking:
        raise FFmpegUnavailable(f"The FFmpeg at {exe} ({source}) lacks {', '.join(build.lacking)}; "
                                "set ffmpeg.path to a full build (with libx264 and libass).")
    return FFmpeg(exe, source, build.version)


def _listed(listing: str, name: str) -> bool:
    return any(name in line.split() for line in listing.splitlines())



