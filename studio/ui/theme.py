"""Light and dark themes: follow the system unless the ``ui.theme`` setting says otherwise.

Custom-painted widgets take their colours from the palette (``chart_colours`` for charts), and
listen for ``QEvent.PaletteChange`` so a theme switched while the app runs reaches them too.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from studio.ui.theme_style import ThemeStyle, is_dark_palette

THEMES = ("system", "dark", "light")


def is_dark(choice: str) -> bool:
    if choice in ("dark", "light"):
        return choice == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, choice: str) -> bool:
    """Returns whether the dark palette is now in use."""
    dark = is_dark(choice)
    app.setStyle(ThemeStyle())  # Fusion, with check boxes that show on the dark palette
    app.setPalette(dark_palette() if dark else light_palette())
    return dark


def dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#26282b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#2b2d30",
        QPalette.ColorRole.ToolTipBase: "#3a3d41", QPalette.ColorRole.ToolTipText: "#f0f0f0",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#33363a",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#3d7bd9", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7fb0ff", QPalette.ColorRole.PlaceholderText: "#8a8d91",
        QPalette.ColorRole.Mid: "#45484c", QPalette.ColorRole.Dark: "#18191b",
        QPalette.ColorRole.Light: "#4a4d52", QPalette.ColorRole.Midlight: "#3c3f43",
        QPalette.ColorRole.Shadow: "#0c0c0d",
    }
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7d81"))
    return palette


def light_palette() -> QPalette:
    palette = QStyleFactory.create("Fusion").standardPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2f6fd0"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f3f4f6"))
    return palette


@dataclass(frozen=True, slots=True)
class ChartColours:
    background: QColor
    text: QColor
    grid: QColor
    raw: QColor  # the noisy series: quiet, behind
    smooth: QColor  # the trend: the one to read


def chart_colours(palette: QPalette) -> ChartColours:
    dark = is_dark_palette(palette)
    raw = QColor(palette.color(QPalette.ColorRole.Link if dark else QPalette.ColorRole.Highlight))
    raw.setAlpha(150)
    return ChartColours(background=palette.color(QPalette.ColorRole.Base),
                        text=palette.color(QPalette.ColorRole.Text),
                        grid=palette.color(QPalette.ColorRole.Mid), raw=raw,
                        smooth=QColor("#ffa25c" if dark else "#d35400"))

