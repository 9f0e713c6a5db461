"""Fusion with indicators that stay visible on the dark palette.

Fusion outlines check boxes and radio buttons in a darker shade of the window colour, which on
the dark palette is almost the colour of the box itself: the box vanishes. This style draws
Fusion's indicator, then, on a dark palette, a light outline over it.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleFactory, QStyleOption, QWidget

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
