"""The images of one dataset for the grid: the engine's light rows, filtered on the id list.

The model keeps every row of the dataset (a few hundred bytes each) and the ids the current
filter and sort (``studio.engine.datasets.filters``) let through. Thumbnails come from a
``ThumbnailCache``: asking for the decoration of a row only queues a load, and the row repaints
when the picture is ready.
"""
from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from studio.engine.core import Studio
from studio.engine.datasets.filters import ImageFilter, ImageRow
from studio.engine.datasets.grid_rows import all_rows, first_rows
from studio.engine.datasets.video_items import describe
from studio.engine.db.models import Dataset
from studio.ui.models.grid_rows import Arranged, Shown, arrange, empty, show
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache, disk_size
from studio.ui.widgets.image_pane import describe_identity

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex
FIRST_PAGE = 300  # rows read first when a dataset opens: more than a screen of the largest window


def _pause() -> None:
    """Between chunks of a big read: the rows so far are frozen for the cycle collector (else a
    full collection on the reading thread, holding the interpreter lock, walks every row read so
    far: a UI stall of tenths of a second at 100,000 rows), and a waiting UI thread goes first."""
    gc.freeze()
    time.sleep(0)


class DatasetImageModel(QAbstractListModel):
    """Rows by id; ``_shown`` is the filtered, sorted id list the view sees."""

    rows_loaded = Signal()

    def __init__(self, thumbnails: ThumbnailCache, studio: Studio | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self._assets_dir: Path | None = studio.paths.assets_dir if studio else None
        self.arranged = empty()
        self._rows: dict[uuid.UUID, ImageRow] = {}
        self._shown: list[uuid.UUID] = []
        self._position: dict[uuid.UUID, int] = {}
        self._by_sha: dict[str, list[uuid.UUID]] = {}
        self.filter = ImageFilter()
        self.thumb_size = 128
        self._first_token: object | None = None  # the first page asked for last
        self._first_shown = False  # the rows held are a first page; the whole dataset follows
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
            if row.clip is not None:
                size += f"\nclip: {describe(row.clip)}"
            if row.identity is not None:
                size += f"\n{describe_identity(row)}"
            return f"{row.name}\n{size}\n{row.caption or '(no caption)'}"
        return None

    def thumbnail(self, row: ImageRow) -> Any:
        size = disk_size(self.thumb_size)
        if self._assets_dir is None:
            return self.thumbnails.get(row.sha256, size)
        return self.thumbnails.request(row.sha256, size, self._assets_dir / row.storage_key)

    # The page's side --------------------------------------------------------------------------

    def prepare(self, rows: Sequence[ImageRow]) -> Arranged:
        """Thread-safe: ``rows`` arranged for ``set_rows`` under the current filter, compared with
        the rows held now; call it on the thread that read them."""
        return arrange(rows, self.filter, self.arranged)

    def load(self, studio: Studio, dataset: Dataset) -> Arranged:
        """Blocking and thread-safe: every row of ``dataset``, read and arranged for ``set_rows``."""
        return self.prepare(all_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id,
                                     pause=_pause))

    def open_first(self, studio: Studio, dataset: Dataset) -> None:
        """Shows the first page of ``dataset`` as soon as it is read, before the whole of it: under
        the "date" sort the first rows read are the first rows shown, and the rest are appended."""
        if self.filter.sort != "date":
            return
        spec, token = self.filter, object()
        self._first_token = token
        run_in_background(
            lambda: arrange(first_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id,
                                       limit=FIRST_PAGE), spec),
            receiver=self, on_done=lambda first: self._on_first(token, first), on_error=lambda _exc: None)

    def _on_first(self, token: object, first: Arranged) -> None:
        if token is self._first_token and first.shown.spec == self.filter:
            self.set_rows(first)
            self._first_shown = True

    def set_rows(self, rows: Sequence[ImageRow] | Arranged) -> None:
        """New rows; pass ``prepare``'s value so that the UI thread does no per-row work."""
        arranged = rows if isinstance(rows, Arranged) else arrange(rows, self.filter)
        shown = arranged.shown if arranged.shown.spec == self.filter else show(
            arranged.rows, arranged.order, self.filter)
        first, self._first_shown, self._first_token = self._first_shown, False, None
        if first and shown.ids[:len(self._shown)] == self._shown:
            self._extend(arranged, shown)
        else:
            self.thumbnails.forget_queue()
            self.beginResetModel()
            self._adopt(arranged, shown)
            self.endResetModel()
        # Tens of thousands of long-lived row objects made every full garbage collection pause
        # the UI thread for tens of milliseconds while thumbnails stream in. Frozen objects are
        # still freed by reference counting when the rows are replaced; they are only skipped
        # by the cycle collector, which they do not need.
        gc.freeze()
        self.rows_loaded.emit()

    def _adopt(self, arranged: Arranged, shown: Shown) -> None:
        self.arranged = replace(arranged, base=None, changed=[])  # the old rows are let go
        self._rows = arranged.rows
        self._show(shown)

    def _extend(self, arranged: Arranged, shown: Shown) -> None:
        """The whole dataset after its first page: the rows shown stay, the rest are appended
        (the view keeps its scroll position, current cell and selection)."""
        held, total = len(self._shown), len(shown.ids)
        if total > held:
            self.beginInsertRows(QModelIndex(), held, total - 1)
        self._adopt(arranged, shown)
        if total > held:
            self.endInsertRows()
        if held:
            self.dataChanged.emit(self.index(0), self.index(held - 1))

    def same_ids(self, arranged: Arranged) -> bool:
        """Whether ``arranged`` holds the ids held now (else the view is reset with it)."""
        return arranged.same_ids and arranged.base is self._rows

    def changed(self, arranged: Arranged) -> list[ImageRow]:
        return arranged.changed if arranged.base is self._rows else [
            r for r in arranged.rows.values() if r != self._rows.get(r.id)]

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
        self.beginResetModel()
        self._show(show(self._rows, self.arranged.order, spec))
        self.endResetModel()

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = size
        if self._shown:
            self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1),
                                  [Qt.ItemDataRole.DecorationRole])

    def _show(self, shown: Shown) -> None:
        self._shown, self._position, self._by_sha = shown.ids, shown.position, shown.by_sha

    def row(self, image_id: uuid.UUID) -> ImageRow | None:
        return self._rows.get(image_id)

    def row_at(self, position: int) -> ImageRow | None:
        return self._rows[self._shown[position]] if 0 <= position < len(self._shown) else None

    def position(self, image_id: uuid.UUID) -> int:
        return self._position.get(image_id, -1)

    def all_rows(self) -> list[ImageRow]:
        return [self._rows[i] for i in self.arranged.order]

    def shown_rows(self) -> list[ImageRow]:
        return [self._rows[i] for i in self._shown]

    def shown_ids(self) -> list[uuid.UUID]:
        return list(self._shown)

    def total(self) -> int:
        return len(self.arranged.order)

    def _on_thumbnail_ready(self, sha256: str, *_: object) -> None:
        for image_id in self._by_sha.get(sha256, ()):
            cell = self.index(self._position[image_id])
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])
