"""The images of one dataset for the grid: the engine's light rows, filtered on the id list.

The model keeps every row of the dataset (a few hundred bytes each) and the ids the current
filter and sort (``studio.engine.datasets.filters``) let through. Thumbnails come from a
``ThumbnailCache``: asking for the decoration of a row only queues a load, and the row repaints
when the picture is ready.
"""
from __future__ import annotations

import gc
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from studio.engine.core import Studio
from studio.engine.datasets.filters import ImageFilter, ImageRow, filtered
from studio.ui.thumbnails import ThumbnailCache, disk_size

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


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
        shown = [r.id for r in filtered((self._rows[i] for i in self._order), self.filter)]
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
