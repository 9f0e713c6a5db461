"""Help → Keyboard shortcuts: the shortcut table, read-only, with a search field."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.shortcuts import SHORTCUTS, Shortcut

COLUMNS = ("Keys", "Where", "What it does")


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: tuple[Shortcut, ...] = SHORTCUTS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search keys, places or actions…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_changed)
        self.table = QTableWidget(len(shortcuts), len(COLUMNS), self)
        self.table.setObjectName("shortcuts-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        for row, shortcut in enumerate(shortcuts):
            for column, text in enumerate((shortcut.label(), shortcut.where, shortcut.description)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(620, 520)

    def shown_rows(self) -> list[tuple[str, str, str]]:
        """The rows the search leaves, as their text."""
        return [self._row_text(row) for row in range(self.table.rowCount())
                if not self.table.isRowHidden(row)]

    def _on_search_changed(self, text: str) -> None:
        words = text.casefold().split()
        for row in range(self.table.rowCount()):
            line = " ".join(self._row_text(row)).casefold()
            self.table.setRowHidden(row, not all(word in line for word in words))

    def _row_text(self, row: int) -> tuple[str, str, str]:
        cells = [self.table.item(row, column) for column in range(len(COLUMNS))]
        keys, where, what = (cell.text() if cell is not None else "" for cell in cells)
        return keys, where, what
