"""Descriptors of the faces the dataset analysis found, taken in the same pass (in the picture
workers), from the pixels the analysis already decoded where her face is large enough there.

The analysis decodes a 12 MP photo at 1/8 (375×500): a face of 15 % of the short side is then
about 56 px wide, and dlib's descriptor of a face that small drifts from the full-size one
(measured on tests/photos.py's three people, face boxes of dlib's detector: 0.27–0.33 at 40 px,
0.18–0.21 at 60 px, 0.10–0.14 at 80 px, 0.08–0.12 at 100 px and more, which is the drift of a
mere re-encode). So where the smallest face is under ``MIN_FACE`` px (the analysis's boxes are
about a quarter wider than dlib's), the same bytes are decoded again, larger (libjpeg's 1/4 or
1/2 draft), just enough to reach it; the rest of the analysis keeps its small picture.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from studio.engine.identity import descriptors, model
from studio.engine.media.thumbnails import decode_image

log = logging.getLogger("studio.identity")

MIN_FACE = 100  # px, an analysis box's width: a descriptor as good as at full size (see above)


class _State:
    warned = False  # the missing model is said once per process, not once per picture


def ready() -> bool:
    """Whether the face model can run here; says once per process why not."""
    try:
        model.load()
    except model.ModelUnavailable as exc:
        if not _State.warned:
            log.warning("faces are analysed without identity: %s", exc)
            _State.warned = True
        return False
    return True


def describe_faces(picture: Image.Image, faces: Sequence[Sequence[int]], width: int, height: int,
                   data: bytes | None = None) -> list[str] | None:
    """The stored descriptor (base64) of each face, boxes in the upright original's pixels;
    ``picture`` is that picture decoded at some scale, ``data`` its file's bytes (for a larger
    decode when a face is small in ``picture``). None when the model is unavailable."""
    if not faces:
        return []
    if not ready():
        return None
    smallest = min(int(f[2]) for f in faces)
    if smallest * picture.width / width < MIN_FACE and data is not None and picture.width < width:
        picture = _larger(data, smallest, width, height, picture)
    scale = picture.width / width
    rgb = np.asarray(picture.convert("RGB"))
    boxes = [(round(f[0] * scale), round(f[1] * scale), round(f[2] * scale), round(f[3] * scale))
             for f in faces]
    return [descriptors.encode(d) for d in model.describe(rgb, boxes)]


def _larger(data: bytes, smallest: int, width: int, height: int, fallback: Image.Image) -> Image.Image:
    """The picture decoded just large enough for its smallest face to reach ``MIN_FACE`` px."""
    short = min(width, height)
    side = min(math.ceil(short * MIN_FACE / max(smallest, 1)), short)
    try:
        return decode_image(data, reduce_to=side).image
    except ValueError:  # it decoded a moment ago; a second decode that fails keeps the first
        return fallback
