"""A page's content in a frameless scroll area: in a small window the page scrolls instead of
forcing the window to grow."""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLayout, QScrollArea, QVBoxLayout, QWidget


def scroll_page(page: QWidget, content: QLayout | QWidget) -> QScrollArea:
    """Puts ``content`` in a scroll area that fills ``page``."""
    if isinstance(content, QLayout):
        inner = QWidget(page)
        inner.setLayout(content)
        content = inner
    scroller = QScrollArea(page)
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setWidget(content)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroller)
    return scroller
