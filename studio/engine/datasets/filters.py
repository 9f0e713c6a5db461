"""Which images of a dataset a listing shows, and in what order: rows, filters, sorts.

The Datasets page and the ``dataset images`` verb both narrow a dataset's images with an
``ImageFilter`` over light ``ImageRow``s loaded in one query, so what a filter means is decided
here once.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.datasets.sorts import SORTS as SORTS
from studio.engine.datasets.tags import split_tags
from studio.engine.datasets.video_items import ClipInfo
from studio.engine.db.models import DatasetImage


@dataclass(frozen=True, slots=True)
class Identity:
    """``DatasetImage.identity`` as the grid needs it (identity/dataset.py writes it)."""

    score: float | None = None  # her face's 0–1 score; None: no face
    distance: float | None = None
    face: int | None = None  # index into ``faces`` of her face
    flags: tuple[str, ...] = ()  # of identity.dataset.FLAGS
    clusters: tuple[int | None, ...] = ()  # each face's cluster number, 1 = the largest

    @staticmethod
    def from_stored(stored: Any) -> Identity | None:
        if not isinstance(stored, dict):
            return None
        face = stored.get("face")
        return Identity(score=_number(stored.get("score")), distance=_number(stored.get("distance")),
                        face=face if isinstance(face, int) else None,
                        flags=tuple(str(f) for f in stored.get("flags") or () if isinstance(f, str)),
                        clusters=tuple(c if isinstance(c, int) else None for c in stored.get("cluster") or ()))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class ImageRow:
    """A detached, light copy of a DatasetImage, made on the background thread."""

    id: uuid.UUID
    version: int
    name: str
    storage_key: str
    sha256: str
    width: int
    height: int
    created_at: datetime
    caption: str
    excluded: bool
    near_dup_group: int | None
    analyzed: bool
    sharpness: float | None
    blurry: bool
    dark: bool
    bright: bool
    faces: tuple[tuple[int, int, int, int], ...]
    crop: dict[str, Any] | None
    crop_manual: bool
    face_scores: tuple[float, ...] = ()  # the detector's confidence per face (older rows: none)
    clip: ClipInfo | None = None  # a clip's duration, fps and frames; None for a picture
    identity: Identity | None = None  # the verdict against her reference faces; None: not judged

    @property
    def face_count(self) -> int:
        return len(self.faces)

    def faces_scoring(self, least: float) -> int:
        """Faces whose score is at least ``least`` (a face found before scores were kept counts)."""
        if not least:
            return len(self.faces)
        scores = self.face_scores if len(self.face_scores) == len(self.faces) else ()
        return sum(1 for score in scores if score >= least) if scores else len(self.faces)

    @property
    def identity_score(self) -> float | None:
        return self.identity.score if self.identity else None

    def flagged(self, flag: str) -> bool:
        return self.identity is not None and flag in self.identity.flags


_COLUMNS = (DatasetImage.id, DatasetImage.version, DatasetImage.original_name,
            DatasetImage.source_name, DatasetImage.storage_key, DatasetImage.sha256,
            DatasetImage.width, DatasetImage.height, DatasetImage.created_at, DatasetImage.caption,
            DatasetImage.excluded, DatasetImage.near_dup_group, DatasetImage.analyzed_at,
            DatasetImage.quality, DatasetImage.faces, DatasetImage.crop, DatasetImage.crop_manual,
            DatasetImage.identity)


def _row(values: Sequence[Any]) -> ImageRow:
    (id_, version, original, source, key, sha, width, height, created, caption, excluded, group,
     analyzed_at, quality, faces, crop, manual, identity) = values
    quality = quality or {}
    sharpness = quality.get("sharpness")
    name = original or PurePosixPath(source or key).name
    return ImageRow(id=id_, version=version, name=name, storage_key=key, sha256=sha,
                    width=width or 0, height=height or 0, created_at=created, caption=caption or "",
                    excluded=bool(excluded), near_dup_group=group, analyzed=analyzed_at is not None,
                    sharpness=float(sharpness) if sharpness is not None else None,
                    blurry=bool(quality.get("blurry")), dark=bool(quality.get("dark")),
                    bright=bool(quality.get("bright")),
                    faces=tuple(_box(box) for box in (faces or [])),
                    crop=dict(crop) if crop else None, crop_manual=bool(manual),
                    face_scores=_scores(quality.get("face_scores")), clip=ClipInfo.from_quality(quality),
                    identity=Identity.from_stored(identity))


def _scores(values: Any) -> tuple[float, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(float(v) for v in values if isinstance(v, (int, float)))


def _box(box: Sequence[Any]) -> tuple[int, int, int, int]:
    x, y, width, height = (int(v) for v in box[:4])
    return x, y, width, height


def image_rows(studio: Studio, *, workspace_id: uuid.UUID, dataset_id: uuid.UUID,
               image_ids: Iterable[uuid.UUID] | None = None) -> list[ImageRow]:
    """Blocking: the dataset's images (or just ``image_ids``) in import order, one query."""
    query = (select(*_COLUMNS)
             .where(DatasetImage.workspace_id == workspace_id, DatasetImage.dataset_id == dataset_id,
                    DatasetImage.deleted_at.is_(None))
             .order_by(DatasetImage.created_at, DatasetImage.source_name))
    if image_ids is not None:
        query = query.where(DatasetImage.id.in_(list(image_ids)))
    with studio.db.session() as session:
        return [_row(values) for values in session.execute(query)]


@dataclass(frozen=True, slots=True)
class ImageFilter:
    """What the grid shows; every field narrows, the defaults show everything."""

    text: str = ""
    tag: str = ""
    caption: str = "any"  # any | with | without
    near_duplicates: bool = False
    blurry: bool = False
    blur_threshold: float = 0.0  # sharpness under this is blurry; 0: as the analysis judged it
    exposure: str = "any"  # any | dark | bright
    faces: str = "any"  # any | none | one | many
    face_score: float = 0.0  # faces scoring under this are not counted; 0: every face found
    excluded: str = "any"  # any | only | hide
    identity: str = "any"  # any, or one of identity.dataset.FLAGS: the pictures flagged so
    identity_score: float = 0.0  # her face scores at least this (0–1); 0: off
    cluster: int = 0  # a face in this face cluster (1 = the largest); 0: off
    below_target: int = 0  # shorter side under this many pixels; 0: off
    sort: str = "date"
    tag_split: Callable[[str], list[str]] | None = field(default=None, compare=False)

    def matches(self, row: ImageRow) -> bool:
        checks = (
            not self.text or self.text.casefold() in f"{row.name}\n{row.caption}".casefold(),
            not self.tag or self._has_tag(row),
            self.caption == "any" or (self.caption == "with") == bool(row.caption.strip()),
            not self.near_duplicates or row.near_dup_group is not None,
            not self.blurry or self.is_blurry(row),
            self.exposure == "any" or (row.dark if self.exposure == "dark" else row.bright),
            self.faces == "any" or (row.analyzed
                                    and _face_class(row.faces_scoring(self.face_score)) == self.faces),
            self.excluded == "any" or row.excluded == (self.excluded == "only"),
            not self.below_target or 0 < min(row.width, row.height) < self.below_target,
            self.identity == "any" or row.flagged(self.identity),
            not self.identity_score or (row.identity_score or 0.0) >= self.identity_score,
            not self.cluster or (row.identity is not None and self.cluster in row.identity.clusters),
        )
        return all(checks)

    def is_blurry(self, row: ImageRow) -> bool:
        if not self.blur_threshold:
            return row.blurry
        return row.sharpness is not None and row.sharpness < self.blur_threshold

    def _has_tag(self, row: ImageRow) -> bool:
        tags = self.tag_split(row.caption) if self.tag_split else row.caption.split(",")
        wanted = self.tag.strip().casefold()
        return any(t.strip().casefold() == wanted for t in tags)


def _face_class(count: int) -> str:
    return "none" if count == 0 else "one" if count == 1 else "many"


def sort_key(sort: str) -> Callable[[ImageRow], Any]:
    if sort == "name":
        return lambda r: r.name.casefold()
    if sort == "sharpness":  # sharpest first; unanalysed last
        return lambda r: (r.sharpness is None, -(r.sharpness or 0.0))
    if sort == "group":  # near-duplicates side by side, then the rest
        return lambda r: (r.near_dup_group is None, r.near_dup_group or 0, r.created_at)
    if sort == "identity":  # most like her first; pictures without her face last
        return lambda r: (r.identity_score is None, -(r.identity_score or 0.0), r.created_at)
    if sort == "identity-low":  # least like her first, to find who does not belong
        return lambda r: (r.identity_score is None, r.identity_score or 0.0, r.created_at)
    return lambda r: r.created_at


def tag_splitter(separator: str) -> Callable[[str], list[str]]:
    """How a dataset with this tag separator splits a caption into tags, for ``tag`` filters."""
    return lambda caption: split_tags(caption, separator)


def filtered(rows: Iterable[ImageRow], spec: ImageFilter) -> list[ImageRow]:
    """The rows ``spec`` lets through, in its sort order."""
    return sorted((r for r in rows if spec.matches(r)), key=sort_key(spec.sort))
