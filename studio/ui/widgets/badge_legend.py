"""What the marks on the Datasets grid's thumbnails mean, in one line under the grid."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

# The colours and letters the grid paints (studio.ui.widgets.thumbnail_grid).
CAPTIONED, UNCAPTIONED = "#2e8b57", "#c0392b"
MARKS = (("X", "excluded (dimmed)"), ("D", "near-duplicate"), ("B", "blurry"), ("▶", "clip, its length"))


def badge_legend(parent: QWidget | None = None) -> QLabel:
    dots = (f"<span style='color:{CAPTIONED}'>●</span> captioned &nbsp; "
            f"<span style='color:{UNCAPTIONED}'>●</span> no caption")
    letters = " &nbsp; ".join(f"<b>{mark}</b> {meaning}" for mark, meaning in MARKS)
    label = QLabel(f"<small>{dots} &nbsp; {letters}</small>", parent)
    label.setObjectName("badge-legend")
    label.setWordWrap(True)
    label.setToolTip("X: exclude or bring back the selected pictures · Ctrl+J: next picture without a caption")
    return label


def with_legend(grid: QWidget, parent: QWidget) -> QWidget:
    """The grid with its legend underneath, as one splitter pane."""
    box = QWidget(parent)
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(grid, 1)
    column.addWidget(badge_legend(box))
    return box
