"""Non-destructive crops: kohya-style aspect buckets, a face-aware automatic crop, rendering.

A crop is stored on the image as ``{"x", "y", "w", "h", "target", "bucket": [w, h], "source"}``
in pixels of the upright image (EXIF orientation applied); the original file is never touched.
Export renders it with ``render_crop``. A manual crop (``crop_manual``) is never replaced by an
automatic one.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from studio.engine.core import Studio
from studio.engine.datasets.service import update_image
from studio.engine.db.models import DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.errors import InvalidInput
from studio.engine.media.image_limits import REDUCING_GAP, open_image, prepare_decode
from studio.engine.media.thumbnails import displayable, orientation_of, upright

TARGETS = (512, 768, 1024)
DEFAULT_TARGET = 512  # sd-scripts' default resolution; SDXL datasets choose 1024
STEP = 64
MIN_SIDE = 256
MAX_SIDE = 2048
# Crop heights in face heights: half-body reaches about the waist, head-and-shoulders the chest.
HALF_BODY = 5.0
HEAD_AND_SHOULDERS = 2.6
FACE_LINE = 0.38  # the face centre sits this far down the crop: head room above, body below

Source = Literal["auto", "manual"]


@dataclass(frozen=True, slots=True)
class Crop:
    x: int
    y: int
    w: int
    h: int
    target: int
    bucket: tuple[int, int]
    source: Source = "auto"

    def to_dict(self) -> dict[str, Any]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "target": self.target,
                "bucket": list(self.bucket), "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Crop:
        """Also reads a rectangle saved without target or bucket (the nearest bucket then)."""
        x, y, w, h = (int(data[k]) for k in ("x", "y", "w", "h"))
        target = int(data.get("target") or DEFAULT_TARGET)
        bucket = data.get("bucket") or closest_bucket(max(w, 1), max(h, 1), target)
        return cls(x=x, y=y, w=w, h=h, target=target, bucket=(int(bucket[0]), int(bucket[1])),
                   source="manual" if data.get("source") == "manual" else "auto")


@cache
def buckets(target: int) -> tuple[tuple[int, int], ...]:
    """Every (w, h), multiples of 64 between 256 and 2048, as large as fits in target² pixels."""
    if target not in TARGETS:
        raise InvalidInput(f"Target resolution must be one of {', '.join(map(str, TARGETS))}.")
    found = []
    for width in range(MIN_SIDE, MAX_SIDE + 1, STEP):
        height = min(MAX_SIDE, target * target // width // STEP * STEP)
        if height >= MIN_SIDE:
            found.append((width, height))
    return tuple(found)


def closest_bucket(width: float, height: float, target: int) -> tuple[int, int]:
    """The bucket nearest in aspect (on a log scale, so 2:1 and 1:2 are equally far from 1:1)."""
    aspect = math.log(width / height)
    return min(buckets(target), key=lambda b: (abs(math.log(b[0] / b[1]) - aspect), -b[0] * b[1]))


def suggest_crop(width: int, height: int, faces: Sequence[Sequence[int]],
                 target: int = DEFAULT_TARGET) -> Crop:
    """Half-body framing around the largest face (head-and-shoulders when the picture is too
    short for that), else the largest centred crop; in the bucket nearest the image's aspect."""
    bucket = closest_bucket(width, height, target)
    ratio = bucket[0] / bucket[1]
    fit_h = min(float(height), width / ratio)  # the tallest crop of this aspect that fits
    if not faces:
        w, h = _size(fit_h, ratio, width, height)
        return Crop((width - w) // 2, (height - h) // 2, w, h, target, bucket)
    fx, fy, fw, fh = max(faces, key=lambda f: f[2] * f[3])[:4]
    framing = HALF_BODY * fh if HALF_BODY * fh <= fit_h else HEAD_AND_SHOULDERS * fh
    crop_h = min(fit_h, max(framing, min(bucket[1], fit_h)))  # never smaller than the bucket
    w, h = _size(crop_h, ratio, width, height)
    x = _clamp(round(fx + fw / 2 - w / 2), width - w)
    y = _clamp(round(fy + fh / 2 - FACE_LINE * h), height - h)
    return Crop(x, y, w, h, target, bucket)


def her_faces(faces: Sequence[Sequence[int]], identity: dict[str, Any] | None) -> list[Sequence[int]]:
    """The faces an automatic crop frames: her face where the identity verdict names it (a
    group picture is framed on her, not on whoever is largest), else every face."""
    face = (identity or {}).get("face")
    if isinstance(face, int) and 0 <= face < len(faces):
        return [faces[face]]
    return list(faces)


def manual_crop(width: int, height: int, box: Sequence[float], target: int = DEFAULT_TARGET) -> Crop:
    """The user's rectangle, kept inside the image and trimmed about its centre to the nearest
    bucket's aspect, so rendering never stretches it."""
    bx, by, bw, bh = (float(v) for v in box[:4])
    x0, y0, x1, y1 = max(0.0, bx), max(0.0, by), min(float(width), bx + bw), min(float(height), by + bh)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise InvalidInput("The crop is too small or lies outside the image.")
    bucket = closest_bucket(x1 - x0, y1 - y0, target)
    ratio = bucket[0] / bucket[1]
    w, h = _size(min(y1 - y0, (x1 - x0) / ratio), ratio, width, height)
    x = _clamp(round((x0 + x1) / 2 - w / 2), width - w)
    y = _clamp(round((y0 + y1) / 2 - h / 2), height - h)
    return Crop(x, y, w, h, target, bucket, "manual")


def render_crop(image_path: Path, crop: dict[str, Any]) -> Image.Image:
    """The crop of the upright original, resized to its bucket: what the trainer is given.

    A JPEG is decoded at the smallest scale that still gives the crop twice its bucket's pixels;
    raises InvalidInput when the picture cannot be read or passes the studio's image limits."""
    spec = Crop.from_dict(crop)
    try:
        opened = open_image(Path(image_path))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{Path(image_path).name} cannot be read for its crop: {exc}") from None
    with opened:  # resized inside: closing frees the pixels
        full = opened.size
        try:
            prepare_decode(opened, at_least=_decode_size(full, spec))
            scale = opened.width / full[0]  # a JPEG's draft shrinks both sides alike
            image = upright(displayable(opened), orientation_of(opened))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{Path(image_path).name} cannot be cropped: {exc}") from None
        x0, y0, x1, y1 = (round(v * scale) for v in (spec.x, spec.y, spec.x + spec.w, spec.y + spec.h))
        box = (max(0, x0), max(0, y0), min(image.width, x1), min(image.height, y1))
        return image.resize(spec.bucket, Image.Resampling.LANCZOS, box=_cover(box, spec.bucket),
                            reducing_gap=3.0)


def _decode_size(full: tuple[int, int], spec: Crop) -> tuple[int, int]:
    """How large the decoded picture must stay for the crop to keep twice its bucket's pixels."""
    factor = min(spec.w / spec.bucket[0], spec.h / spec.bucket[1]) / REDUCING_GAP
    if factor <= 1:
        return full
    return max(1, math.ceil(full[0] / factor)), max(1, math.ceil(full[1] / factor))


def set_manual_crop(studio: Studio, workspace_id: uuid.UUID, image_id: uuid.UUID,
                    box: Sequence[float], target: int = DEFAULT_TARGET) -> DatasetImage:
    """Stores the user's crop; automatic crops leave it alone from now on."""
    image = _image(studio, workspace_id, image_id)
    crop = manual_crop(image.width, image.height, box, target)
    return update_image(studio, workspace_id, image_id, crop=crop.to_dict(), crop_manual=True)


def reset_crop(studio: Studio, workspace_id: uuid.UUID, image_id: uuid.UUID,
               target: int = DEFAULT_TARGET) -> DatasetImage:
    """Back to the automatic crop (from the faces found by the last analysis; her face when the
    identity verdict knows which one she is)."""
    image = _image(studio, workspace_id, image_id)
    crop = suggest_crop(image.width, image.height, her_faces(image.faces or [], image.identity), target)
    return update_image(studio, workspace_id, image_id, crop=crop.to_dict(), crop_manual=False)


def _image(studio: Studio, workspace_id: uuid.UUID, image_id: uuid.UUID) -> DatasetImage:
    with studio.db.session() as session:
        image = Repository(session, workspace_id).get(DatasetImage, image_id)
    if image.width < 1 or image.height < 1:
        raise InvalidInput("This image has no known size; import it again.")
    return image


def _size(crop_h: float, ratio: float, width: int, height: int) -> tuple[int, int]:
    h = max(1, min(height, math.floor(crop_h)))
    w = max(1, min(width, round(h * ratio)))
    return w, h


def _clamp(value: int, upper: int) -> int:
    return max(0, min(value, upper))


def _cover(box: tuple[int, int, int, int], bucket: tuple[int, int]) -> tuple[float, float, float, float]:
    """The largest part of ``box`` with the bucket's aspect, about its centre."""
    x0, y0, x1, y1 = box
    ratio = bucket[0] / bucket[1]
    w, h = x1 - x0, y1 - y0
    if w / h > ratio:
        trim = (w - h * ratio) / 2
        return x0 + trim, y0, x1 - trim, y1
    trim = (h - w / ratio) / 2
    return x0, y0 + trim, x1, y1 - trim
