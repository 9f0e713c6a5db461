"""Side-by-side previews of one frame as each platform preset will frame it.

Each preview shows the frame cropped around the focus point (or fitted over a dimmed copy, as
the blurred background will look), the platform's safe area as a tinted border, and the
current subtitle line where the export will burn it. Painting only; the frame is decoded in
the background by the page.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.engine.media.framing import fill_box
from studio.engine.media.presets import ExportPreset

PREVIEW_HEIGHT = 180
MIN_PREVIEW_HEIGHT = 72
MAX_PREVIEW_HEIGHT = 360
_SAFE = QColor(255, 80, 80, 70)


class PresetPreview(QWidget):
    def __init__(self, preset: ExportPreset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset = preset
        self.frame: QImage | None = None
        self.fit = "crop"
        self.focus = (0.5, 0.5)
        self.caption = ""
        self.scale_to(PREVIEW_HEIGHT)
        self.setToolTip(f"{preset.title}: {preset.width}×{preset.height}; the red border is "
                        "covered by the app's buttons and captions")

    def width_for(self, height: int) -> int:
        return round(height * self.preset.width / self.preset.height)

    def scale_to(self, height: int) -> None:
        """Keeps the preset's shape exactly; the row chooses the height."""
        self.setFixedSize(self.width_for(height), height)

    def set_frame(self, frame: QImage | None) -> None:
        self.frame = frame
        self.update()

    def set_framing(self, fit: str, focus: tuple[float, float], caption: str) -> None:
        self.fit, self.focus, self.caption = fit, focus, caption
        self.update()

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        box = QRectF(self.rect())
        painter.fillRect(box, QColor(20, 20, 24))
        if self.frame is not None and not self.frame.isNull():
            if self.fit == "blur":
                painter.setOpacity(0.45)
                painter.drawImage(box, self.frame, _fill_source(self.frame, box, (0.5, 0.5)))
                painter.setOpacity(1.0)
                painter.drawImage(_fit_target(self.frame, box), self.frame)
            else:
                painter.drawImage(box, self.frame, _fill_source(self.frame, box, self.focus))
        self._draw_safe_area(painter, box)
        self._draw_caption(painter, box)
        painter.end()

    def _draw_safe_area(self, painter: QPainter, box: QRectF) -> None:
        area = self.preset.safe_area
        w, h = box.width(), box.height()
        painter.fillRect(QRectF(0, 0, w, h * area.top), _SAFE)
        painter.fillRect(QRectF(0, h * (1 - area.bottom), w, h * area.bottom), _SAFE)
        inner_h = h * (1 - area.top - area.bottom)
        painter.fillRect(QRectF(0, h * area.top, w * area.left, inner_h), _SAFE)
        painter.fillRect(QRectF(w * (1 - area.right), h * area.top, w * area.right, inner_h), _SAFE)
        painter.setPen(QPen(QColor(255, 255, 255, 140), 1, Qt.PenStyle.DashLine))
        painter.drawRect(QRectF(w * area.left, h * area.top, w * (1 - area.left - area.right),
                                inner_h))

    def _draw_caption(self, painter: QPainter, box: QRectF) -> None:
        if not self.caption:
            return
        scale = box.height() / self.preset.height
        font = QFont(self.preset.subtitles.font)
        font.setBold(True)
        font.setPixelSize(max(7, round(self.preset.subtitles.size_px * scale)))
        painter.setFont(font)
        area = self.preset.safe_area
        line = QRectF(box.width() * area.left, 0, box.width() * (1 - area.left - area.right),
                      box.height() * (1 - area.bottom) - 4)
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom
                    | Qt.TextFlag.TextWordWrap)
        painter.setPen(QColor(0, 0, 0))
        for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            painter.drawText(line.translated(dx, dy), flags, self.caption)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(line, flags, self.caption)


class PresetPreviews(QWidget):
    """One PresetPreview per preset, labelled, in a row that scales to the space it is given:
    the whole row stays in sight (no sideways scrolling) down to MIN_PREVIEW_HEIGHT."""

    def __init__(self, presets: list[ExportPreset], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.previews: dict[str, PresetPreview] = {}
        self.labels: list[QLabel] = []
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        for preset in presets:
            column = QVBoxLayout()
            preview = PresetPreview(preset, self)
            preview.setObjectName(f"preview-{preset.slug}")
            self.previews[preset.slug] = preview
            column.addWidget(preview, 0, Qt.AlignmentFlag.AlignHCenter)
            label = QLabel(f"{preset.title}\n{preset.width}×{preset.height}", self)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            label.setWordWrap(True)
            self.labels.append(label)
            column.addWidget(label)
            self.row.addLayout(column)
        self.row.addStretch(1)
        # Set, so the layout does not hold this widget at the previews' current sizes.
        self.setMinimumSize(self._row_width(MIN_PREVIEW_HEIGHT), MIN_PREVIEW_HEIGHT + self._label_height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        height = self.fitting_height(self.width(), self.height())
        for preview in self.previews.values():
            preview.scale_to(height)

    def fitting_height(self, width: int, height: int) -> int:
        """The tallest preview height at which the row and its labels fit width × height."""
        spacing = self.row.spacing() * max(0, len(self.previews) - 1)
        shapes = sum(p.preset.width / p.preset.height for p in self.previews.values()) or 1.0
        by_width = int((width - spacing - len(self.previews)) / shapes)
        by_height = height - self._label_height()
        return max(MIN_PREVIEW_HEIGHT, min(MAX_PREVIEW_HEIGHT, by_width, by_height))

    def _row_width(self, height: int) -> int:
        spacing = self.row.spacing() * max(0, len(self.previews) - 1)
        return sum(p.width_for(height) for p in self.previews.values()) + spacing

    def _label_height(self) -> int:
        return max((label.sizeHint().height() for label in self.labels), default=0) + self.row.spacing()

    def set_frame(self, frame: QImage | None) -> None:
        for preview in self.previews.values():
            preview.set_frame(frame)

    def set_framing(self, fit: str, focus: tuple[float, float], caption: str) -> None:
        for preview in self.previews.values():
            preview.set_framing(fit, focus, caption)


def _fill_source(frame: QImage, box: QRectF, focus: tuple[float, float]) -> QRectF:
    """The part of the frame a crop-to-fill keeps: the engine's rule, as exports apply it."""
    kept = fill_box(source=(frame.width(), frame.height()), frame=(box.width(), box.height()),
                    focus=focus)
    return QRectF(kept.x, kept.y, kept.w, kept.h)


def _fit_target(frame: QImage, box: QRectF) -> QRectF:
    scale = min(box.width() / frame.width(), box.height() / frame.height())
    w, h = frame.width() * scale, frame.height() * scale
    return QRectF((box.width() - w) / 2, (box.height() - h) / 2, w, h)
