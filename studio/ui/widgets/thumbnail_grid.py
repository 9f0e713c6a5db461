"""The thumbnail grid: a QListView in icon mode that paints placeholders until pictures arrive.

It accepts files, folders and zip archives dropped on it and reports them as paths; what to
do with them is the page's business.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from studio.engine.datasets.filters import ImageRow
from studio.ui.models.dataset_images import ROW_ROLE

TEXT_HEIGHT = 18
MIN_SIZE, MAX_SIZE = 64, 256


def dropped_paths(mime: QMimeData) -> list[Path]:
    """Local files and folders named by a drop; anything else (web links) is ignored."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints the picture fitted into its cell, a placeholder while it loads, and small badges."""

    def __init__(self, grid: ThumbnailGrid) -> None:
        super().__init__(grid)
        self._grid = grid

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        side = self._grid.thumb_size
        return QSize(side + 8, side + TEXT_HEIGHT + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, ImageRow):
            return
        palette = option.palette
        rect = option.rect.adjusted(4, 4, -4, -4)
        picture = QRect(rect.left(), rect.top(), rect.width(), rect.height() - TEXT_HEIGHT)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(option.rect.adjusted(1, 1, -1, -1), palette.color(QPalette.ColorRole.Highlight))
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            target = _fit(image.size(), picture)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, image)
            if row.excluded:
                painter.fillRect(target, QColor(0, 0, 0, 150))
        else:
            painter.fillRect(picture, palette.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
            painter.drawRect(picture.adjusted(0, 0, -1, -1))
        self._badges(painter, row, picture)
        text_rect = QRect(rect.left(), picture.bottom() + 2, rect.width(), TEXT_HEIGHT - 2)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        name = option.fontMetrics.elidedText(row.name, Qt.TextElideMode.ElideMiddle, text_rect.width())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignCenter), name)
        painter.restore()

    def _badges(self, painter: QPainter, row: ImageRow, picture: QRect) -> None:
        """A dot for "captioned", letters for excluded, near-duplicate and blurry."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        dot = QColor("#2e8b57") if row.caption.strip() else QColor("#c0392b")
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dot)
        painter.drawEllipse(picture.right() - 11, picture.top() + 3, 8, 8)
        marks = [m for m, on in (("X", row.excluded), ("D", row.near_dup_group is not None),
                                 ("B", row.blurry)) if on]
        if marks and picture.width() >= 64:
            text = " ".join(marks)
            _label(painter, QRect(picture.left() + 3, picture.top() + 3, 10 * len(text) + 6, 15), text)
        if row.clip is not None:  # a clip: its length, bottom left, as video players show it
            text = f"▶ {row.clip.duration_s:.1f} s"
            width = painter.fontMetrics().horizontalAdvance(text) + 8
            _label(painter, QRect(picture.left() + 3, picture.bottom() - 17, width, 15), text)


def _label(painter: QPainter, box: QRect, text: str) -> None:
    """White text on a dark rounded box, legible on any picture."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 170))
    painter.drawRoundedRect(box, 3, 3)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)


def _fit(size: QSize, box: QRect) -> QRect:
    scaled = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    return QRect(box.left() + (box.width() - scaled.width()) // 2,
                 box.top() + (box.height() - scaled.height()) // 2, scaled.width(), scaled.height())


class ThumbnailGrid(QListView):
    paths_dropped = Signal(list)  # list[Path]
    thumb_size_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumb_size = 128
        # A wrapping list rather than icon mode: icon mode keeps an item per row and lays them all
        # out (seconds at 100,000 rows); a wrapping list with one size for all rows lays out in
        # batches of arithmetic, and paints the same grid.
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setObjectName("thumbnail-grid")

    def set_thumb_size(self, size: int) -> None:
        size = max(MIN_SIZE, min(MAX_SIZE, int(size)))
        if size == self.thumb_size:
            return
        self.thumb_size = size
        model = self.model()
        if hasattr(model, "set_thumb_size"):
            model.set_thumb_size(size)
        self.scheduleDelayedItemsLayout()
        self.thumb_size_changed.emit(size)

    def dataChanged(self, top_left: QModelIndex | QPersistentModelIndex,  # noqa: N802
                    bottom_right: QModelIndex | QPersistentModelIndex, roles: Sequence[int] = ()) -> None:
        """Repaints the changed cells. Qt's list mode lays every row out again at any change of
        data (each arriving thumbnail made the view walk all rows: 10,000 model calls a picture
        while scrolling); every cell here has the same size, so a change of data moves nothing."""
        if not self.uniformItemSizes():
            super().dataChanged(top_left, bottom_right, list(roles))
            return
        if top_left == bottom_right:
            self.update(top_left)
        else:
            self.viewport().update()

    # Drops: files, folders, zips ----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.paths_dropped.emit(paths)
