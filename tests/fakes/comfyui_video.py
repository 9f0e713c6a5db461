"""The fake ComfyUI's SaveVideo file: a real H.264 clip shaped by the graph, made with FFmpeg.

ComfyUI's SaveVideo writes the frames CreateVideo was given, at CreateVideo's fps; how many frames
and their size come from the latent node upstream (WanImageToVideo, Wan22ImageToVideoLatent,
WanFirstLastFrameToVideo: length, width, height; SVD: video_frames). The fake encodes a test
pattern of that many frames at that rate and size, so the studio probes and finishes a real file
whose frame count, rate and size can be checked against what the template asked for.
"""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FRAME_INPUTS = ("length", "video_frames")  # the latent node's frame count, by node family


def clip_shape(upstream: Iterable[dict[str, Any]]) -> tuple[int, float, int, int]:
    """(frames, fps, width, height) of the clip the nodes upstream of a SaveVideo make."""
    frames, fps, width, height = 16, 8.0, 64, 64
    for node in upstream:
        inputs = node.get("inputs") or {}
        if node.get("class_type") == "CreateVideo" and isinstance(inputs.get("fps"), int | float):
            fps = float(inputs["fps"])
        for name in FRAME_INPUTS:
            if isinstance(inputs.get(name), int) and isinstance(inputs.get("width"), int):
                frames, width, height = inputs[name], inputs["width"], inputs["height"]
    return frames, fps, width, height


def render_clip(ffmpeg: str, upstream: Iterable[dict[str, Any]]) -> bytes:
    """The mp4 (H.264, yuv420p, no sound) that SaveVideo would have written for this graph."""
    frames, fps, width, height = clip_shape(upstream)
    with tempfile.TemporaryDirectory(prefix="fake-comfyui-") as tmp:
        target = Path(tmp) / "clip.mp4"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi",
                        "-i", f"testsrc2=size={width}x{height}:rate={fps:g}",
                        "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", str(target)], check=True, capture_output=True)
        return target.read_bytes()
