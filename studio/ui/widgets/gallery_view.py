"""Generated pictures: a grid of thumbnails with rating, favourite and likeness marks, and a
large viewer.

``GalleryGrid`` is a QListView in icon mode over a ``GalleryModel`` (also used, in one row, for
the Generate tab's results strip). ``ImageViewer`` shows one picture as large as it fits, decoded
off the UI thread, with its stars and heart; changes are reported, the page saves them.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.comfyui.gallery import GalleryRow
from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from studio.ui.models.gallery import ROW_ROLE
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import load_preview

VIEW_SIDE = 1280
STAR, NO_STAR, HEART = "★", "☆", "♥"
LIT = "color: #e0a800; font-size: 15px;"
UNLIT = "font-size: 15px;"  # marks keep one size lit or not, so the heart never moves
LIKE, UNLIKE = QColor(0, 0, 0, 160), QColor(192, 40, 40, 220)  # likeness badge: her, not her


def _fit(size: QSize, box: QRect) -> QRect:
    scaled = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    return QRect(box.left() + (box.width() - scaled.width()) // 2,
                 box.top() + (box.height() - scaled.height()) // 2, scaled.width(), scaled.height())


class GalleryDelegate(QStyledItemDelegate):
    """The picture fitted into its cell (a placeholder while it loads), stars and a heart on it."""

    def __init__(self, grid: GalleryGrid) -> None:
        super().__init__(grid)
        self._grid = grid

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        return QSize(self._grid.thumb_size + 8, self._grid.thumb_size + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, GalleryRow):
            return
        palette = option.palette
        picture = option.rect.adjusted(4, 4, -4, -4)
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect.adjusted(1, 1, -1, -1), palette.color(QPalette.ColorRole.Highlight))
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            picture = _fit(image.size(), picture)
            painter.drawImage(picture, image)
        else:
            painter.fillRect(picture, palette.color(QPalette.ColorRole.AlternateBase))
        marks = (STAR * row.rating if row.rating else "") + (f" {HEART}" if row.favourite else "")
        if marks.strip() and picture.width() >= 60:
            box = QRect(picture.left() + 3, picture.bottom() - 18, picture.width() - 6, 16)
            width = painter.fontMetrics().horizontalAdvance(marks.strip()) + 8
            box.setWidth(min(width, box.width()))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 160))
            painter.drawRoundedRect(box, 3, 3)
            painter.setPen(QColor("#ffd54a"))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), marks.strip())
        if row.identity is not None and picture.width() >= 60:
            _paint_likeness(painter, picture, row.identity)
        painter.restore()


def _paint_likeness(painter: QPainter, picture: QRect, score: float) -> None:
    """Her identity score in the picture's top right corner, on red where it is not her."""
    text = f"{score:.2f}"
    width = painter.fontMetrics().horizontalAdvance(text) + 8
    box = QRect(picture.right() - width - 2, picture.top() + 3, width, 16)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(LIKE if score >= SAME_PERSON_SCORE else UNLIKE)
    painter.drawRoundedRect(box, 3, 3)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)


class GalleryGrid(QListView):
    def __init__(self, parent: QWidget | None = None, *, thumb_size: int = 160, strip: bool = False) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(GalleryDelegate(self))
        if strip:  # one row that scrolls sideways
            self.setFlow(QListView.Flow.LeftToRight)
            self.setWrapping(False)
            self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
            self.setFixedHeight(thumb_size + 12 + self.horizontalScrollBar().sizeHint().height())


class ImageViewer(QWidget):
    """One picture, large; stars (click the lit last star again for none) and a heart."""

    rating_changed = Signal(object, int)  # asset id, 0..5
    favourite_changed = Signal(object, bool)  # asset id, on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row: GalleryRow | None = None
        self.canvas = ImageCanvas(self)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewer-caption")
        self.stars = [QToolButton(self) for _ in range(5)]
        for number, button in enumerate(self.stars, start=1):
            button.setAutoRaise(True)
            button.setToolTip(f"{number} star{'s' if number > 1 else ''}")
            button.setObjectName(f"star-{number}")
            button.clicked.connect(lambda _=False, n=number: self._on_star_clicked(n))
        self.heart = QToolButton(self)
        self.heart.setCheckable(True)
        self.heart.setAutoRaise(True)
        self.heart.setObjectName("favourite")
        self.heart.setToolTip("Favourite")
        self.heart.toggled.connect(self._on_heart_toggled)
        marks = QHBoxLayout()
        marks.setContentsMargins(0, 0, 0, 0)
        for button in (*self.stars, self.heart):
            marks.addWidget(button)
        marks.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(marks)
        layout.addWidget(self.caption)
        self.show_row(None, None)

    def show_row(self, row: GalleryRow | None, source: Path | None) -> None:
        self.row = row
        self.canvas.image = None
        self.canvas.update()
        self._show_marks()
        for button in (*self.stars, self.heart):
            button.setEnabled(row is not None)
        if row is None:
            self.caption.setText("Select a picture to see it large.")
            return
        size = f"{row.width}×{row.height}  " if row.width else ""
        seed = f"seed {row.seed}  " if row.seed is not None else ""
        lora = f"LoRA {row.lora}  " if row.lora else ""
        likeness = f"identity {row.identity:.2f}  " if row.identity is not None else ""
        self.caption.setText(f"{size}{seed}{likeness}{lora}{row.created_at:%Y-%m-%d %H:%M}\n{row.prompt}")
        if source is not None:
            run_in_background(lambda: load_preview(source, VIEW_SIDE), receiver=self, lane="io",
                              on_done=lambda image: self._on_image_loaded(row, image),
                              on_error=lambda exc: self.caption.setText(f"Cannot show it: {exc}"))

    def _on_image_loaded(self, row: GalleryRow, image: QImage) -> None:
        if self.row is not None and self.row.id == row.id:
            self.canvas.image = image
            self.canvas.update()

    def _show_marks(self) -> None:
        rating = self.row.rating if self.row else 0
        for number, button in enumerate(self.stars, start=1):
            button.setText(STAR if number <= rating else NO_STAR)
            button.setStyleSheet(LIT if number <= rating else UNLIT)
        self.heart.blockSignals(True)
        self.heart.setChecked(bool(self.row and self.row.favourite))
        self.heart.setText(HEART if self.row and self.row.favourite else "♡")
        self.heart.setStyleSheet("color: #e0457b; font-size: 15px;" if self.row and self.row.favourite else UNLIT)
        self.heart.blockSignals(False)

    def set_row(self, row: GalleryRow) -> None:
        """The same picture with new marks (saved elsewhere)."""
        if self.row is not None and row.id == self.row.id:
            self.row = row
            self._show_marks()

    def _on_star_clicked(self, number: int) -> None:
        if self.row is not None:
            rating = 0 if number == self.row.rating else number
            self.rating_changed.emit(self.row.id, rating)

    def _on_heart_toggled(self, on: bool) -> None:
        if self.row is not None:
            self.favourite_changed.emit(self.row.id, on)


class ImageCanvas(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self.image is not None and not self.image.isNull():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(_fit(self.image.size(), self.rect()), self.image)
