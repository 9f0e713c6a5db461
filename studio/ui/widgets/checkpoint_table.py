"""A training's saved checkpoints, one row each: step, epoch, size, the active mark and the
identity of its samples (their median score), the suggested one marked."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from studio.ui.models.training_data import CheckpointRow

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 3  # an item's CheckpointRow
HEADERS = ["Checkpoint", "Step", "Epoch", "Size", "Active", "Identity"]
IDENTITY_COLUMN = HEADERS.index("Identity")
SUGGESTED = "suggested"
SUGGESTED_TIP = ("The highest identity among the checkpoints not overfitted: its samples look "
                 "most like her references")
OVERFITTED_TIP = ("Its samples' faces vary far less than an earlier checkpoint's that already looked "
                  "like her (or its validation loss rose): likely overfitted")


class CheckpointTable(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training-checkpoints")
        self.setHeaderLabels(HEADERS)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setRootIsDecorated(False)
        self.setMinimumHeight(110)  # a few rows even in a 720-pixel window: the page scrolls
        header = self.header()
        header.setStretchLastSection(False)  # the name gets the width, not the last column
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def fill(self, rows: list[CheckpointRow]) -> None:
        """Draws the rows, keeping the selection; emits no selection change (the caller updates)."""
        chosen = {item.data(0, ID_ROLE) for item in self.selectedItems()}
        self.blockSignals(True)
        self.clear()
        for row in rows:
            item = QTreeWidgetItem([row.name, str(row.step or ""), str(row.epoch or ""),
                                    _size(row.size_bytes), "★" if row.active else "", identity_text(row)])
            item.setData(0, ID_ROLE, row.id)
            item.setData(0, ROW_ROLE, row)
            if row.suggested:
                font = QFont(item.font(0))
                font.setBold(True)
                for column in (0, IDENTITY_COLUMN):
                    item.setFont(column, font)
                item.setToolTip(IDENTITY_COLUMN, SUGGESTED_TIP)
            elif row.overfitted:
                item.setToolTip(IDENTITY_COLUMN, OVERFITTED_TIP)
            self.addTopLevelItem(item)
            item.setSelected(row.id in chosen)
        self.blockSignals(False)

    def rows(self) -> list[CheckpointRow]:
        items = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [item.data(0, ROW_ROLE) for item in items if item is not None]

    def suggested(self) -> CheckpointRow | None:
        return next((row for row in self.rows() if row.suggested), None)


def identity_text(row: CheckpointRow) -> str:
    """``0.83 (4) ◆ suggested``, ``0.91 (4) overfitted?`` or ``—`` before any scored sample."""
    if row.identity is None:
        return "—"
    text = f"{row.identity:.2f} ({row.identity_samples})"
    if row.suggested:
        return f"{text} ◆ {SUGGESTED}"
    return f"{text} overfitted?" if row.overfitted else text


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.1f} MB" if size_bytes >= 1e6 else f"{size_bytes / 1e3:.0f} KB"
