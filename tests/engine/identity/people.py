"""Pictures of the three people in tests/photos.py and their variations, and dataset rows that
carry their faces' descriptors as the analysis stores them (for the tests of what is built on
the analysis, without running it each time)."""
from __future__ import annotations

from functools import cache
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from studio.engine.core import Studio
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.db.types import utcnow
from studio.engine.identity import descriptors, model
from tests.engine.datasets.caption_helpers import add_image
from tests.photos import group, photo_image

VARIANTS = ("plain", "flip", "dark", "bright", "crop")


def variant(name: str, kind: str) -> Image.Image:
    """One person's photo as it is, mirrored, darker, brighter or cropped closer."""
    picture = photo_image(name)
    if kind == "flip":
        return ImageOps.mirror(picture)
    if kind == "dark":
        return ImageEnhance.Brightness(picture).enhance(0.6)
    if kind == "bright":
        return ImageEnhance.Brightness(picture).enhance(1.3)
    if kind == "crop":
        w, h = picture.size
        return picture.crop((w // 10, h // 12, w - w // 10, h - h // 4))
    return picture


def pair() -> Image.Image:
    """Her (small, on the left) beside someone else (large, on the right): framing the largest
    face would leave her out."""
    canvas = Image.new("RGB", (1400, 1000), (120, 130, 140))
    canvas.paste(photo_image("astronaut").resize((400, 400)), (40, 300))
    canvas.paste(photo_image("hopper").resize((640, 750)), (760, 250))
    return canvas


def picture_of(name: str, kind: str = "plain") -> Image.Image:
    """A person's variation, or "group" (the three side by side) or "pair" (see ``pair``)."""
    return group() if name == "group" else pair() if name == "pair" else variant(name, kind)


def jpeg(picture: Image.Image, quality: int = 92) -> bytes:
    buffer = BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@cache
def faces_of(name: str, kind: str) -> tuple[tuple[tuple[int, int, int, int], ...], tuple[str, ...]]:
    """Boxes (left to right) and stored descriptors of the faces in a picture (``picture_of``)."""
    picture = picture_of(name, kind)
    rgb = np.asarray(picture.convert("RGB"))
    boxes = sorted((box for box, _score in model.detect(rgb, upsample=1)), key=lambda b: b[0])
    return tuple(boxes), tuple(descriptors.encode(d) for d in model.describe(rgb, boxes))


def add_person(studio: Studio, dataset: Dataset, seed: int, name: str, kind: str = "plain",
               **fields: Any) -> DatasetImage:
    """A picture row as the analysis leaves it: its faces and their descriptors."""
    boxes, described = faces_of(name, kind)
    picture = picture_of(name, kind)
    return add_image(studio, dataset, seed, data=jpeg(picture), ext=".jpg", width=picture.width,
                     height=picture.height, faces=[list(b) for b in boxes],
                     face_descriptors=list(described), analyzed_at=utcnow(), **fields)


def add_faceless(studio: Studio, dataset: Dataset, seed: int) -> DatasetImage:
    return add_image(studio, dataset, seed, width=48, height=32, faces=[], face_descriptors=[],
                     analyzed_at=utcnow())
