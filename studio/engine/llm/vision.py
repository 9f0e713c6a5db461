"""Images as chat content parts: JPEG data URLs, at most 1024 px on the long side.

Vision models scale large images down anyway; sending them smaller saves upload time and,
on most providers, prompt tokens. EXIF orientation is applied so the model sees it upright.
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


def jpeg_bytes(path: Path, max_side: int = MAX_SIDE) -> bytes:
    try:
        with Image.open(path) as img:
            img.draft("RGB", (max_side, max_side))  # JPEG: decode at reduced size when possible
            upright = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path.name} cannot be read as an image: {exc}") from exc
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    upright.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def image_part(path: Path, max_side: int = MAX_SIDE) -> dict[str, Any]:
    encoded = base64.b64encode(jpeg_bytes(path, max_side)).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{encoded}"}}


def user_message(text: str, images: Sequence[Path] = ()) -> dict[str, Any]:
    """A user turn: the text first, then each image."""
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts.extend(image_part(p) for p in images)
    return {"role": "user", "content": parts}
