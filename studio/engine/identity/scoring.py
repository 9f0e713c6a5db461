"""Scoring a picture file against an influencer's reference faces: for pictures that did not pass
through the dataset analysis (training samples, generated pictures, a reference file).

The picture is decoded at reduced scale (a face needs about 150 px for the descriptor's chip, and
faces in samples and generations are large), its faces found by dlib's detector, and her face is
the one closest to the references' centroid.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from studio.engine.db.database import Database
from studio.engine.db.models import Influencer
from studio.engine.db.repositories import Repository
from studio.engine.identity import descriptors, model
from studio.engine.media.thumbnails import decode_image, read_source

DECODE_SIDE = 640  # the short side decoded (JPEG draft): faces of a third of it or more are plenty
SMALL_PICTURE = 700  # a short side under this is searched at twice its size as well
QUICK_SIDE = 400  # the short side of the first, quick search: it finds faces of 80 px (a fifth) or more


@dataclass(frozen=True, slots=True)
class PictureScore:
    """Her face's distance and score, where a face was found; ``faces`` counts every face."""

    faces: int
    distance: float | None = None
    score: float | None = None
    box: tuple[int, int, int, int] | None = None  # in the decoded picture's pixels

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def centroid_of(identity: dict[str, Any] | None) -> np.ndarray | None:
    """The references' centroid stored on an influencer (``Influencer.identity``), or None when
    no reference was set or found yet."""
    text = (identity or {}).get("centroid")
    if not text:
        return None
    try:
        return descriptors.decode(str(text))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Reference:
    """Her references' centroid as a job found it (None: none set yet) and its revision."""

    name: str
    centroid: np.ndarray | None
    revision: int


def reference_of(db: Database, workspace_id: uuid.UUID, influencer_id: uuid.UUID | None) -> Reference | None:
    """The influencer's reference, read once per job; None for no influencer (or one gone)."""
    if influencer_id is None:
        return None
    with db.session() as session:
        influencer = Repository(session, workspace_id).find(Influencer, id=influencer_id)
        if influencer is None:
            return None
        identity = dict(influencer.identity or {})
        return Reference(name=influencer.name, centroid=centroid_of(identity),
                         revision=int(identity.get("revision") or 0))


def picture_faces(path: Path) -> tuple[list[np.ndarray], list[tuple[int, int, int, int]]]:
    """Descriptors and boxes of the faces in a picture file. Raises ValueError (unreadable file)
    or model.ModelUnavailable."""
    decoded = decode_image(read_source(path), reduce_to=DECODE_SIDE)
    rgb = np.asarray(decoded.image.convert("RGB"))
    boxes = _quick_search(rgb)
    if not boxes:  # small faces only, or none: the whole search
        found = model.detect(rgb, upsample=1 if min(rgb.shape[:2]) < SMALL_PICTURE else 0)
        boxes = [box for box, _score in found]
    return model.describe(rgb, boxes), boxes


def _quick_search(rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Faces found on a copy shrunk to QUICK_SIDE, in ``rgb``'s pixels: a sample's or a generated
    picture's face is large, and the detector's cost grows with the pixels it scans (a 1 MP
    picture: about 60 ms at full size, 10 ms shrunk)."""
    short = min(rgb.shape[:2])
    if short <= QUICK_SIDE * 1.25:
        return []
    factor = short / QUICK_SIDE
    small = Image.fromarray(rgb).reduce(round(factor)) if factor >= 2 else Image.fromarray(rgb)
    small = small.resize((round(rgb.shape[1] / factor), round(rgb.shape[0] / factor)),
                         Image.Resampling.BILINEAR)
    return [(round(x * factor), round(y * factor), round(w * factor), round(h * factor))
            for (x, y, w, h), _score in model.detect(np.asarray(small))]


def score_picture(path: Path, centroid: np.ndarray) -> PictureScore:
    """Raises ValueError (unreadable file) or model.ModelUnavailable."""
    found, boxes = picture_faces(path)
    if not found:
        return PictureScore(faces=0)
    distances = [descriptors.distance(d, centroid) for d in found]
    best = int(np.argmin(distances))
    return PictureScore(faces=len(found), distance=distances[best],
                        score=descriptors.score(distances[best]), box=boxes[best])
