"""Clips the tests make with real FFmpeg (the ``ffmpeg`` fixture in tests/conftest.py): testsrc2 + sine."""
from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

ODD = "dir with 'quote:colon, comma [x] é"  # what users' folders really look like


def make_clip(ffmpeg: str, path: Path, *, size: str = "320x240", seconds: float = 2.0,
              fps: int = 25, audio: bool = True, volume_db: float = -18.0) -> Path:
    """A test pattern clip with a 440 Hz tone (or none), H.264 + AAC."""
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = [ffmpeg, "-v", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                 "-af", f"volume={volume_db}dB", "-c:a", "aac"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, check=True, capture_output=True)
    return path


def make_tone(ffmpeg: str, path: Path, seconds: float = 2.0) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi",
                    "-i", f"sine=frequency=330:duration={seconds}", str(path)],
                   check=True, capture_output=True)
    return path


def frame_at(path: Path, at_s: float) -> np.ndarray:
    """The decoded RGB frame shown at ``at_s`` seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= at_s - 1e-3:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {at_s} s in {path}")


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> dict[str, Path]:
    """Made once: a 4:3 clip with sound, a silent one, a tone, a still image."""
    folder = tmp_path_factory.mktemp("clips")
    still = folder / "still.png"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=400x300:duration=1", "-frames:v", "1", str(still)],
                   check=True, capture_output=True)
    return {"sound": make_clip(ffmpeg, folder / "sound.mp4"),
            "silent": make_clip(ffmpeg, folder / "silent.mp4", seconds=1.0, audio=False),
            "tone": make_tone(ffmpeg, folder / "tone.wav", seconds=1.5),
            "still": still}
