"""The images of one dataset for the grid: light rows loaded in one query, filtered on the id list.

The model keeps every row of the dataset (a few hundred bytes each) and the ids the current
filter and sort let through. Thumbnails come from a ``ThumbnailCache``: asking for the
decoration of a row only queues a load, and the row repaints when the picture is ready.
"""
from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import DatasetImage
from studio.ui.thumbnails import ThumbnailCache, disk_size

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex
SORTS = ("name", "date", "sharpness", "group")
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

    @property
    def face_count(self) -> int:
        return len(self.faces)


_COLUMNS = (DatasetImage.id, DatasetImage.version, DatasetImage.original_name,
            DatasetImage.source_name, DatasetImage.storage_key, DatasetImage.sha256,
            DatasetImage.width, DatasetImage.height, DatasetImage.created_at, DatasetImage.caption,
            DatasetImage.excluded, DatasetImage.near_dup_group, DatasetImage.analyzed_at,
            DatasetImage.quality, DatasetImage.faces, DatasetImage.crop, DatasetImage.crop_manual)


def _row(values: Sequence[Any]) -> ImageRow:
    (id_, version, original, source, key, sha, width, height, created, caption, excluded, group,
     analyzed_at, quality, faces, crop, manual) = values
    quality = quality or {}
    sharpness = quality.get("sharpness")
    name = original or PurePosixPath(source or key).name
    return ImageRow(id=id_, version=version, name=name, storage_key=key, sha256=sha,
                    width=width or 0, height=height or 0, created_at=created, caption=caption or "",
                    excluded=bool(excluded), near_dup_group=group, analyzed=analyzed_at is not None,
                    sharpness=float(sharpness) if sharpness is not None else None,
                    blurry=bool(quality.get("blurry")), dark=bool(quality.get("dark")),
                    bright=bool(quality.get("bright")),
                    faces=tuple(tuple(int(v) for v in box[:4]) for box in (faces or [])),  # type: ignore[misc]
                    crop=dict(crop) if crop else None, crop_manual=bool(manual))


def load_rows(studio: Studio, workspace_id: uuid.UUID, dataset_id: uuid.UUID,
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
    exposure: str = "any"  # any | dark | bright
    faces: str = "any"  # any | none | one | many
    excluded: str = "any"  # any | only | hide
    below_target: int = 0  # shorter side under this many pixels; 0: off
    sort: str = "date"
    tag_split: Callable[[str], list[str]] | None = field(default=None, compare=False)

    def matches(self, row: ImageRow) -> bool:
        checks = (
            not self.text or self.text.casefold() in f"{row.name}\n{row.caption}".casefold(),
            not self.tag or self._has_tag(row),
            self.caption == "any" or (self.caption == "with") == bool(row.caption.strip()),
            not self.near_duplicates or row.near_dup_group is not None,
            not self.blurry or row.blurry,
            self.exposure == "any" or (row.dark if self.exposure == "dark" else row.bright),
            self.faces == "any" or (row.analyzed and _face_class(row.face_count) == self.faces),
            self.excluded == "any" or row.excluded == (self.excluded == "only"),
            not self.below_target or 0 < min(row.width, row.height) < self.below_target,
        )
        return all(checks)

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
    return lambda r: r.created_at


class DatasetImageModel(QAbstractListModel):
    """Rows by id; ``_shown`` is the filtered, sorted id list the view sees."""

    rows_loaded = Signal()

    def __init__(self, thumbnails: ThumbnailCache, studio: Studio | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self._assets_dir: Path | None = studio.paths.assets_dir if studio else None
        self._rows: dict[uuid.UUID, ImageRow] = {}
        self._order: list[uuid.UUID] = []  # import order
        self._shown: list[uuid.UUID] = []
        self._position: dict[uuid.UUID, int] = {}
        self._by_sha: dict[str, list[uuid.UUID]] = {}
        self.filter = ImageFilter()
        self.thumb_size = 128
        thumbnails.thumbnail_ready.connect(self._on_thumbnail_ready)
        thumbnails.thumbnail_failed.connect(self._on_thumbnail_ready)

    # Qt's side --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._shown):
            return None
        row = self._rows[self._shown[index.row()]]
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(row)  # never decodes here: a load is queued at most
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == ID_ROLE:
            return row.id
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            size = f"{row.width}×{row.height}" if row.width else "not analysed yet"
            return f"{row.name}\n{size}\n{row.caption or '(no caption)'}"
        return None

    def thumbnail(self, row: ImageRow) -> Any:
        size = disk_size(self.thumb_size)
        if self._assets_dir is None:
            return self.thumbnails.get(row.sha256, size)
        return self.thumbnails.request(row.sha256, size, self._assets_dir / row.storage_key)

    # The page's side --------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[ImageRow]) -> None:
        self._rows = {r.id: r for r in rows}
        self._order = [r.id for r in rows]
        self.thumbnails.forget_queue()
        self._refilter()
        # Tens of thousands of long-lived row objects made every full garbage collection pause
        # the UI thread for tens of milliseconds while thumbnails stream in. Frozen objects are
        # still freed by reference counting when the rows are replaced; they are only skipped
        # by the cycle collector, which they do not need.
        gc.freeze()
        self.rows_loaded.emit()

    def update_rows(self, rows: Iterable[ImageRow]) -> None:
        """Changed rows repaint where they are; the filter is applied again only when asked."""
        for row in rows:
            if row.id not in self._rows:
                continue
            self._rows[row.id] = row
            position = self._position.get(row.id)
            if position is not None:
                cell = self.index(position)
                self.dataChanged.emit(cell, cell)

    def set_filter(self, spec: ImageFilter) -> None:
        self.filter = spec
        self._refilter()

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = size
        if self._shown:
            self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1),
                                  [Qt.ItemDataRole.DecorationRole])

    def _refilter(self) -> None:
        self.beginResetModel()
        shown = [i for i in self._order if self.filter.matches(self._rows[i])]
        key = sort_key(self.filter.sort)
        shown.sort(key=lambda i: key(self._rows[i]))
        self._shown = shown
        self._position = {image_id: p for p, image_id in enumerate(shown)}
        self._by_sha = {}
        for image_id in shown:
            self._by_sha.setdefault(self._rows[image_id].sha256, []).append(image_id)
        self.endResetModel()

    def row(self, image_id: uuid.UUID) -> ImageRow | None:
        return self._rows.get(image_id)

    def row_at(self, position: int) -> ImageRow | None:
        return self._rows[self._shown[position]] if 0 <= position < len(self._shown) else None

    def position(self, image_id: uuid.UUID) -> int:
        return self._position.get(image_id, -1)

    def all_rows(self) -> list[ImageRow]:
        return [self._rows[i] for i in self._order]

    def shown_rows(self) -> list[ImageRow]:
        return [self._rows[i] for i in self._shown]

    def shown_ids(self) -> list[uuid.UUID]:
        return list(self._shown)

    def total(self) -> int:
        return len(self._order)

    def _on_thumbnail_ready(self, sha256: str, *_: object) -> None:
        for image_id in self._by_sha.get(sha256, ()):
            cell = self.index(self._position[image_id])
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])
