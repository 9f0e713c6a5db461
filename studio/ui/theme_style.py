"""Fusion with indicators that stay visible on the dark palette, and status colours (error,
warning, ok, running) that read on either palette.

Fusion outlines check boxes and radio buttons in a darker shade of the window colour, which on
the dark palette is almost the colour of the box itself: the box vanishes. This style draws
Fusion's indicator, then, on a dark palette, a light outline over it.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory, QStyleOption, QWidget

OUTLINE_ALPHA = 150  # of the text colour: clear on the dark base, softer than the text itself
_OUTLINED = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton)


def is_dark_palette(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


class ThemeStyle(QProxyStyle):
    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,  # noqa: N802
                      painter: QPainter, widget: QWidget | None = None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element in _OUTLINED and is_dark_palette(option.palette):
            _outline(element, option, painter)


def _outline(element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter) -> None:
    colour = QColor(option.palette.color(QPalette.ColorRole.Text))
    colour.setAlpha(OUTLINE_ALPHA)
    rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(colour, 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
        painter.drawEllipse(rect)
    else:
        painter.drawRoundedRect(rect, 1.5, 1.5)
    painter.restore()


# Status colours as (on a light palette, on a dark one): the light ones are too dark to read on
# the dark palette, the dark ones too pale on the light palette.
TONES = {"error": ("#c0392b", "#ff7b72"), "warning": ("#b7791f", "#e3b341"),
         "ok": ("#2e8b57", "#56d364"), "running": ("#2f6fb0", "#79b8ff")}


def tone(name: str, palette: QPalette | None = None) -> str:
    """The colour for a status (``TONES``) that reads on ``palette`` (the app's by default)."""
    light, dark = TONES[name]
    return dark if is_dark_palette(palette or QApplication.palette()) else light


def show_in_tone(widget: QWidget, name: str) -> None:
    """Colours ``widget``'s text with the tone, now and whenever the theme changes ("": the
    palette's own text colour again)."""
    follower = widget.findChild(_ToneFollower)
    if follower is None:
        follower = _ToneFollower(widget)
    follower.name = name
    follower.apply(widget)


class _ToneFollower(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.name = "error"
        widget.installEventFilter(self)

    def apply(self, widget: QWidget) -> None:
        style = f"color: {tone(self.name)};" if self.name else ""
        if widget.styleSheet() != style:  # setting it changes the palette again: no loop
            widget.setStyleSheet(style)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # A theme change reaches the widget as style and palette changes, some while the app's
        # palette is still the old one: colour it once the change has finished.
        changes = (QEvent.Type.PaletteChange, QEvent.Type.StyleChange)
        if event.type() in changes and isinstance(watched, QWidget):
            QTimer.singleShot(0, self, lambda: self.apply(watched))
        return False
