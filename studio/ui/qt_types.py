"""Qt's widget types in Python, made once as the app starts.

PySide (6.8 on) makes its Python types on first use. The first call that returns a widget PySide
did not make itself (a scroll area's viewport, say) makes the types and enums of every QWidget
subclass at once: 5–18 ms of one UI-thread step, which fell in the first page's build. The app
pays it while it starts, before any window shows (bench/grid.py prints it).
"""
from __future__ import annotations

import functools

from PySide6.QtWidgets import QAbstractScrollArea


@functools.cache
def make_widget_types() -> None:
    QAbstractScrollArea().viewport()  # a QWidget made by Qt: PySide looks up which subclass it is
