"""Images as chat content parts: JPEG data URLs, at most 1024 px on the long side.

Vision models scale large images down anyway; sending them smaller saves upload time and,
on most providers, prompt tokens. EXIF orientation is applied so the model sees it upright.
A short clip (a dataset item for a motion LoRA) goes as a few of its frames.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from studio.engine.errors import InvalidInput

MAX_SIDE = 1024
JPEG_QUALITY = 90
CLIP_FRAMES = 3
CLIP_NOTE = ("The pictures that follow are the first, middle and last frames of one short video "
             "clip; describe the clip, its subject and its motion.")


def jpeg_bytes(path: Path, max_side: int = MAX_SIDE) -> bytes:
    try:
        with Image.open(path) as img:
            img.draft("RGB", (max_side, max_side))  # JPEG: decode at reduced size when possible
            upright = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path.name} cannot be read as an image: {exc}") from exc
    return _jpeg(upright, max_side)


def _jpeg(upright: Image.Image, max_side: int) -> bytes:
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    upright.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def image_part(path: Path, max_side: int = MAX_SIDE) -> dict[str, Any]:
    return _part(jpeg_bytes(path, max_side))


def _part(jpeg: bytes) -> dict[str, Any]:
    encoded = base64.b64encode(jpeg).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{encoded}"}}


def clip_parts(path: Path, max_side: int = MAX_SIDE) -> list[dict[str, Any]]:
    """A short clip as a model that reads pictures can see it: its first, middle and last
    frames, said to be one clip, so a caption can tell its motion."""
    from studio.engine.datasets.video_items import clip_frames  # it reads the dataset's clips
    try:
        frames = clip_frames(path, CLIP_FRAMES)
    except ValueError as exc:
        raise InvalidInput(f"{path.name} cannot be read as a clip: {exc}") from exc
    return [{"type": "text", "text": CLIP_NOTE}, *(_part(_jpeg(frame, max_side)) for frame in frames)]


def parts_of(path: Path) -> list[dict[str, Any]]:
    from studio.engine.datasets.video_items import is_clip_name  # the dataset's own clip names
    return clip_parts(path) if is_clip_name(path.name) else [image_part(path)]


def user_message(text: str, images: Sequence[Path] = ()) -> dict[str, Any]:
    """A user turn: the text first, then each image."""
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts.extend(part for p in images for part in parts_of(p))
    return {"role": "user", "content": parts}
