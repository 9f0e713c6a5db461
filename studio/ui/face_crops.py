"""Small pictures of faces cut from the 256 px thumbnails, for the face clusters and the
reference faces. Blocking: call these on a background lane (QImage is safe off the UI thread).

    spot = FaceSpot(sha256=row.sha256, source=studio.asset_path(row.storage_key),
                    width=row.width, box=row.faces[0])
    image = face_crop(studio.paths.cache_dir, spot, 72)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage

from studio.ui.thumbnails import load_thumbnail

THUMBNAIL = 256
MARGIN = 0.2  # of the face's side around it: a little hair and chin, as people recognise faces


@dataclass(frozen=True, slots=True)
class FaceSpot:
    """Where one face is: its picture (by content hash and file) and its box in the picture's
    pixels (after EXIF orientation, as the analysis found it); ``width`` is that picture's width."""

    sha256: str
    source: Path
    width: int
    box: tuple[int, int, int, int]


def face_crop(cache_dir: Path, spot: FaceSpot, side: int) -> QImage:
    """The face, square, ``side`` pixels. Raises ValueError when the thumbnail cannot be made."""
    thumbnail = load_thumbnail(cache_dir, spot.sha256, THUMBNAIL, spot.source)
    scale = thumbnail.width() / spot.width if spot.width else 1.0
    x, y, w, h = spot.box
    grow = max(w, h) * (1 + 2 * MARGIN)
    centre_x, centre_y = (x + w / 2) * scale, (y + h / 2) * scale
    half = max(grow * scale / 2, 4.0)
    area = QRect(round(centre_x - half), round(centre_y - half), round(2 * half), round(2 * half))
    cut = thumbnail.copy(area.intersected(thumbnail.rect()))
    return cut.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def face_crops(cache_dir: Path, spots: list[FaceSpot], side: int) -> list[QImage | None]:
    """One crop per spot, None where its picture cannot be read (moved, unreadable)."""
    found: list[QImage | None] = []
    for spot in spots:
        try:
            found.append(face_crop(cache_dir, spot, side))
        except ValueError:
            found.append(None)
    return found
