"""One post card of the plan calendar: its status colour, time and topic, and once the post's
picture is made, a thumbnail of it at the card's left (from the app's thumbnail cache, decoded off
the UI thread; the card is painted again when it lands).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from studio.engine.db.models import PlanItem
from studio.engine.plans.calendar import CalendarRow
from studio.engine.publish.media import posted

STATUS_COLOURS = {"draft": "#7b8794", "approved": "#2e8b57", "producing": "#2f6fb0",
                  "ready": "#7d4cb0", "failed": "#c0392b"}
UNKNOWN_COLOUR = "#a0a0a0"
THUMB_SIZE = 128  # a disk-cached size; painted smaller
MIN_PICTURE_HEIGHT = 28  # a one-line month card has no room for a picture


def status_colour(status: str) -> QColor:
    return QColor(STATUS_COLOURS.get(status, UNKNOWN_COLOUR))


def picture_of(item: PlanItem) -> Path | None:
    """The picture the post's pipeline made, once its image step is done."""
    step = (item.pipeline or {}).get("image")
    files = step.get("files") if isinstance(step, dict) else None
    return Path(files[0]) if isinstance(files, list) and files and isinstance(files[0], str) else None


def picture_key(path: Path) -> str:
    """The thumbnail cache's key: each run writes a new file, so the path names its content."""
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChipLook:
    selected: bool
    faded: bool
    show_influencer: bool
    picture: QImage | None = None


def paint_chip(painter: QPainter, rect: QRectF, row: CalendarRow, look: ChipLook) -> None:
    colour = status_colour(row.item.status)
    if look.faded:
        colour.setAlpha(90)
    painter.fillRect(rect, colour)
    text_rect = rect.adjusted(4, 0, -4, 0)
    if look.picture is not None and rect.height() >= MIN_PICTURE_HEIGHT:
        side = rect.height() - 4
        target = QRectF(rect.left() + 2, rect.top() + 2, side, side)
        painter.drawImage(target, look.picture, _square(look.picture))
        text_rect.setLeft(target.right() + 4)
    if look.selected:
        painter.setPen(QPen(QColor("#111111"), 2))
        painter.drawRect(rect.adjusted(1, 1, -1, -1))
    painter.setPen(QColor("white"))
    head = f"{row.item.scheduled_at.astimezone():%H:%M}" + (" ✓" if posted(row.item) else "")
    if look.show_influencer:
        head += f" {row.influencer}"
    topic = row.item.topic or row.item.platform
    lines = [head, topic] if rect.height() >= 2 * painter.fontMetrics().height() else [f"{head} {topic}"]
    metrics, width = painter.fontMetrics(), int(text_rect.width())
    text = "\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines)
    painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


def _square(image: QImage) -> QRectF:
    """The centre square of the picture, so the card shows it uncropped in shape, not squashed."""
    side = min(image.width(), image.height())
    return QRectF((image.width() - side) / 2, (image.height() - side) / 2, side, side)
