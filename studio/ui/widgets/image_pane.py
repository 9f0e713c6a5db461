"""The selected image, scaled, with its face boxes and a crop rectangle that can be dragged.

Crops are in the original image's pixels (after EXIF orientation, like the engine). Dragging
inside the rectangle moves it; dragging a corner resizes it with its aspect ratio kept (the
ratio of its bucket); the new crop is reported once, when the mouse is released.
"""
from __future__ import annotations

import html
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from studio.engine.datasets.filters import ImageRow
from studio.engine.datasets.video_items import describe
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import load_preview

PREVIEW_SIDE = 1280
HANDLE = 9.0
MIN_CROP = 32
FACE = "#f1c40f"  # a face before identity was judged
OTHER_FACE = "#9aa0a6"  # a face that is not hers


class CropCanvas(QWidget):
    crop_edited = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.row: ImageRow | None = None
        self.crop: dict[str, Any] | None = None
        self._drag: str | None = None  # "move" or a corner: "tl", "tr", "bl", "br"
        self._drag_from = QPointF()
        self._crop_from = QRectF()
        self.setMinimumSize(240, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def show_image(self, row: ImageRow | None, image: QImage | None) -> None:
        self.row, self.image = row, image
        # A clip goes to the trainer whole: a crop rectangle would promise what export does not do.
        self.crop = dict(row.crop) if row is not None and row.crop and row.clip is None else None
        self._drag = None
        self.update()

    # Geometry: widget <-> image pixels ----------------------------------------------------------

    def image_rect(self) -> QRectF:
        """Where the whole original image is drawn in the widget."""
        if self.row is None or not self.row.width or not self.row.height:
            return QRectF()
        w, h = self.row.width, self.row.height
        scale = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale)

    def _scale(self) -> float:
        return self.image_rect().width() / self.row.width if self.row and self.row.width else 1.0

    def crop_rect(self) -> QRectF:
        """The crop in widget coordinates."""
        if not self.crop:
            return QRectF()
        origin, scale = self.image_rect().topLeft(), self._scale()
        return QRectF(origin.x() + self.crop["x"] * scale, origin.y() + self.crop["y"] * scale,
                      self.crop["w"] * scale, self.crop["h"] * scale)

    def _set_crop_rect(self, rect: QRectF) -> None:
        origin, scale = self.image_rect().topLeft(), self._scale()
        assert self.crop is not None and self.row is not None
        w = max(MIN_CROP, min(round(rect.width() / scale), self.row.width))
        h = max(MIN_CROP, min(round(rect.height() / scale), self.row.height))
        x = min(max(round((rect.x() - origin.x()) / scale), 0), self.row.width - w)
        y = min(max(round((rect.y() - origin.y()) / scale), 0), self.row.height - h)
        self.crop.update(x=x, y=y, w=w, h=h)

    # Painting --------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        target = self.image_rect()
        if self.image is None or target.isEmpty():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            text = "Loading…" if self.row is not None else "Select an image"
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), text)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_faces(painter, target)
        crop = self.crop_rect()
        if crop.isEmpty():
            return
        shade = QPainterPath()
        shade.addRect(target)
        inner = QPainterPath()
        inner.addRect(crop)
        painter.fillPath(shade.subtracted(inner), QColor(0, 0, 0, 120))
        painter.setPen(QPen(QColor("#ffffff"), 2, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(crop)
        painter.setPen(QPen(QColor("#3d7bd9"), 1))
        painter.setBrush(QColor("#ffffff"))
        for corner in _corners(crop).values():
            painter.drawRect(QRectF(corner.x() - HANDLE / 2, corner.y() - HANDLE / 2, HANDLE, HANDLE))

    def _paint_faces(self, painter: QPainter, target: QRectF) -> None:
        """Her face in the accent colour and the others in grey once the faces were compared with
        her references; before that every face in yellow."""
        if self.row is None:
            return
        scale, hers = self._scale(), self.row.identity.face if self.row.identity else None
        for index, (x, y, w, h) in enumerate(self.row.faces):
            colour = (QColor(FACE) if self.row.identity is None
                      else self.palette().color(QPalette.ColorRole.Highlight) if index == hers
                      else QColor(OTHER_FACE))
            painter.setPen(QPen(colour, 3 if index == hers else 2))
            painter.drawRect(QRectF(target.x() + x * scale, target.y() + y * scale, w * scale, h * scale))

    # Dragging --------------------------------------------------------------------------------

    def hit(self, point: QPointF) -> str | None:
        crop = self.crop_rect()
        if crop.isEmpty():
            return None
        for name, corner in _corners(crop).items():
            if abs(point.x() - corner.x()) <= HANDLE and abs(point.y() - corner.y()) <= HANDLE:
                return name
        return "move" if crop.contains(point) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag = self.hit(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        self._drag_from = event.position()
        self._crop_from = self.crop_rect()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            over = self.hit(event.position())
            shape = {"move": Qt.CursorShape.SizeAllCursor, "tl": Qt.CursorShape.SizeFDiagCursor,
                     "br": Qt.CursorShape.SizeFDiagCursor, "tr": Qt.CursorShape.SizeBDiagCursor,
                     "bl": Qt.CursorShape.SizeBDiagCursor}.get(over or "", Qt.CursorShape.ArrowCursor)
            self.setCursor(shape)
            return
        delta = event.position() - self._drag_from
        start = QRectF(self._crop_from)
        if self._drag == "move":
            start.translate(delta)
        else:
            start = _resized(start, self._drag, delta, self.image_rect())
        self._set_crop_rect(start)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        dragged, self._drag = self._drag, None
        if dragged is not None and self.crop is not None and self.crop_rect() != self._crop_from:
            self.crop["source"] = "manual"
            self.crop_edited.emit(dict(self.crop))


def _corners(rect: QRectF) -> dict[str, QPointF]:
    return {"tl": rect.topLeft(), "tr": rect.topRight(), "bl": rect.bottomLeft(), "br": rect.bottomRight()}


def _resized(rect: QRectF, corner: str, delta: QPointF, bounds: QRectF) -> QRectF:
    """Moves one corner, the opposite one fixed, keeping the rectangle's aspect ratio."""
    aspect = rect.width() / rect.height() if rect.height() else 1.0
    dx = delta.x() if corner in ("tr", "br") else -delta.x()
    dy = delta.y() if corner in ("bl", "br") else -delta.y()
    grow = max(dx, dy * aspect)
    width = max(rect.width() + grow, MIN_CROP * 0.25)
    width = min(width, bounds.width(), bounds.height() * aspect)
    height = width / aspect
    anchor = {"tl": rect.bottomRight(), "tr": rect.bottomLeft(), "bl": rect.topRight(),
              "br": rect.topLeft()}[corner]
    left = anchor.x() - width if corner in ("tl", "bl") else anchor.x()
    top = anchor.y() - height if corner in ("tl", "tr") else anchor.y()
    return QRectF(left, top, width, height)


class ImagePane(QWidget):
    """The canvas and a line about the picture; loads the picture off the UI thread."""

    crop_edited = Signal(object, dict)  # image id, crop
    reference_requested = Signal(object, bool)  # image id; True: use her face as a reference, False: remove it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = CropCanvas(self)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.info.setObjectName("image-info")
        self.references: frozenset[uuid.UUID] = frozenset()  # pictures whose face is a reference
        self.reference_button = QPushButton(self)
        self.reference_button.setObjectName("image-reference")
        self.reference_button.clicked.connect(self._on_reference_clicked)
        line = QHBoxLayout()
        line.addWidget(self.info, 1)
        line.addWidget(self.reference_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(line)
        self.canvas.crop_edited.connect(self._on_canvas_crop_edited)
        self._generation = 0
        self._show_reference_action()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """No more than the pane needs: the splitter gives it the room there is, and the wrapped
        picture line's taller hint made the whole Datasets page scroll in a 720 px window."""
        return self.minimumSizeHint().expandedTo(self.minimumSize())

    def show_row(self, row: ImageRow | None, source: Path | None) -> None:
        self._generation += 1
        same = row is not None and self.canvas.row is not None and self.canvas.row.id == row.id
        self.canvas.show_image(row, self.canvas.image if same else None)
        self.info.setText(_describe(row))
        self._show_reference_action()
        if row is None or source is None or same:
            return
        generation = self._generation
        run_in_background(lambda: load_preview(source, PREVIEW_SIDE), receiver=self, lane="io",
                          on_done=lambda image: self._on_preview_loaded(generation, row, image),
                          on_error=lambda exc: self._on_preview_failed(generation, exc))

    def _on_preview_loaded(self, generation: int, row: ImageRow, image: QImage) -> None:
        if generation == self._generation or (self.canvas.row is not None and self.canvas.row.id == row.id):
            self.canvas.show_image(self.canvas.row, image)

    def _on_preview_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.info.setText(f"{self.info.text()}\nCannot show this picture: {exc}")

    def set_references(self, image_ids: Iterable[uuid.UUID]) -> None:
        """The dataset pictures whose face is one of her reference faces."""
        self.references = frozenset(image_ids)
        self._show_reference_action()

    def _show_reference_action(self) -> None:
        row = self.canvas.row
        hers = row is not None and row.clip is None and (
            row.identity.face is not None if row.identity else row.face_count == 1)
        self.reference_button.setVisible(hers or (row is not None and row.id in self.references))
        chosen = row is not None and row.id in self.references
        self.reference_button.setText("Remove from references" if chosen else "Use as reference face")
        self.reference_button.setToolTip(
            "Her face here stops being one of her reference faces; the others stay, chosen by you" if chosen
            else "Her face here becomes one of her reference faces. Automatic references (the largest "
                 "cluster of faces) give way to the faces you choose.")

    def _on_reference_clicked(self) -> None:
        row = self.canvas.row
        if row is not None:
            self.reference_requested.emit(row.id, row.id not in self.references)

    def _on_canvas_crop_edited(self, crop: dict) -> None:
        if self.canvas.row is not None:
            self.crop_edited.emit(self.canvas.row.id, crop)


def _describe(row: ImageRow | None) -> str:
    if row is None:
        return ""
    parts = [f"<b>{html.escape(row.name)}</b>"]  # a file name is text, never markup
    if row.width:
        parts.append(f"{row.width}×{row.height}")
    if row.clip is not None:
        parts.append(f"clip {describe(row.clip)} ({row.clip.codec}), not compared for near-duplicates")
    if row.sharpness is not None:
        parts.append(f"sharpness {row.sharpness:.0f}" + (" (blurry)" if row.blurry else ""))
    if row.analyzed:
        faces = {0: "no face", 1: "one face"}.get(row.face_count, f"{row.face_count} faces")
        if row.face_scores and len(row.face_scores) == row.face_count:
            word = "score" if row.face_count == 1 else "scores"
            faces += f" ({word} {', '.join(f'{score:.2f}' for score in row.face_scores)})"
        parts.append(faces)
    if row.identity is not None:
        parts.append(describe_identity(row))
    if row.crop and row.clip is None:
        bucket = row.crop.get("bucket")
        label = f"crop {row.crop['w']}×{row.crop['h']}"
        parts.append(label + (f" → {bucket[0]}×{bucket[1]}" if bucket else "") +
                     (" (manual)" if row.crop_manual else ""))
    if row.excluded:
        parts.append("<i>excluded</i>")
    return " · ".join(parts)


def describe_identity(row: ImageRow) -> str:
    """"identity 0.83 — her face is the left one of 3", or why there is no score."""
    verdict = row.identity
    if verdict is None or verdict.score is None:
        return "no face of her"
    text = f"identity {verdict.score:.2f}"
    if "different_person" in verdict.flags:
        text += " — not her (a different person)"
    if verdict.face is not None and row.face_count > 1:
        text += f" — her face is {_place(row.faces, verdict.face)} of {row.face_count}"
    return text


def _place(faces: tuple[tuple[int, int, int, int], ...], index: int) -> str:
    """Where one face is among the others, from the left."""
    order = sorted(range(len(faces)), key=lambda i: faces[i][0] + faces[i][2] / 2)
    rank, count = order.index(index), len(faces)
    if rank == 0:
        return "the left one"
    if rank == count - 1:
        return "the right one"
    if count == 3:
        return "the middle one"
    return f"number {rank + 1} from the left"
