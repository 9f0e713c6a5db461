"""Line icons from resources/icons, drawn in the palette's text colour so both themes read well."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from studio.resources import resource_path

ICON_DIR = resource_path("icons")


def icon(name: str, color: QColor | None = None, size: int = 48) -> QIcon:
    """An empty icon when the file is missing (an install without resources): text still shows."""
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    if color is None:
        color = QApplication.palette().windowText().color()
    svg = path.read_text(encoding="utf-8").replace("currentColor", color.name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return QIcon(pixmap)
