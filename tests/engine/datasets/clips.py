"""Short clips made by the real FFmpeg (the ``ffmpeg`` fixture), for dataset tests of clips."""
from __future__ import annotations

import subprocess
from pathlib import Path


def make_clip(ffmpeg: str, path: Path, *, seconds: float = 1.0, fps: int = 8, size: str = "160x96",
              codec: tuple[str, ...] = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")) -> Path:
    """A test pattern clip of ``seconds`` at ``fps``, encoded with ``codec``'s options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={size}:rate={fps}:duration={seconds}", *codec, str(path)],
                   check=True, capture_output=True)
    return path


def rotated(ffmpeg: str, source: Path, target: Path) -> Path:
    """``source`` with a display matrix saying "turn 90°", as phones record portrait clips."""
    subprocess.run([ffmpeg, "-v", "error", "-y", "-display_rotation", "90", "-i", str(source),
                    "-c", "copy", str(target)], check=True, capture_output=True)
    return target
