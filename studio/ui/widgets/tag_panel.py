"""Every tag of the dataset with how many pictures carry it, as in taggui: a click filters the
grid to the tag; Rename and Delete change it in every caption as one step that Undo takes back.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)


class _CountItem(QTableWidgetItem):
    """Sorts by number, not by text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return int(self.text() or 0) < int(other.text() or 0)


class TagPanel(QWidget):
    tag_chosen = Signal(str)  # "" clears the tag filter
    rename_requested = Signal(str, str)  # old, new
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find a tag")
        self.search.setClearButtonEnabled(True)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("tag-table")
        self.table.setHorizontalHeaderLabels(["Tag", "Images"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)  # most used first; a header click changes it
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.rename_button = QPushButton("Rename…", self)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Removes the tag from every caption (Undo puts it back)")
        self.all_button = QPushButton("Show all", self)
        self.all_button.setToolTip("Clears the tag filter")
        self._lay_out()
        self.search.textChanged.connect(self._on_search)
        self.table.itemClicked.connect(lambda *_: self.tag_chosen.emit(self.current_tag()))
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.itemSelectionChanged.connect(self._enable)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self._on_delete)
        self.all_button.clicked.connect(self._on_show_all)
        self._enable()

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        for button in (self.rename_button, self.delete_button, self.all_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def set_tags(self, tags: Sequence[tuple[str, int]]) -> None:
        """``(tag, images)`` pairs, most used first; the tag chosen stays chosen."""
        keep = self.current_tag()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(tags))
        for row, (tag, count) in enumerate(tags):
            self.table.setItem(row, 0, QTableWidgetItem(tag))
            item = _CountItem(str(count))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, item)
            if tag == keep:
                self.table.selectRow(row)
        self.table.setSortingEnabled(True)
        self._on_search(self.search.text())

    def tags(self) -> list[tuple[str, int]]:
        return [(self._text(row, 0), int(self._text(row, 1) or 0)) for row in range(self.table.rowCount())]

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def current_tag(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        return self._text(rows[0].row(), 0) if rows else ""

    def choose(self, tag: str) -> None:
        """Selects and filters on ``tag``, as a click on its row does."""
        for row in range(self.table.rowCount()):
            if self._text(row, 0) == tag:
                self.table.selectRow(row)
                self.tag_chosen.emit(tag)

    def _on_search(self, text: str) -> None:
        wanted = text.strip().casefold()
        for row in range(self.table.rowCount()):
            self.table.setRowHidden(row, bool(wanted) and wanted not in self._text(row, 0).casefold())

    def _enable(self) -> None:
        chosen = bool(self.current_tag())
        self.rename_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _menu(self, point: QPoint) -> None:
        if not self.current_tag():
            return
        menu = QMenu(self)
        menu.addAction("Show pictures with this tag", lambda: self.tag_chosen.emit(self.current_tag()))
        menu.addAction("Rename across the dataset…", self.ask_rename)
        menu.addAction("Delete from every caption", self._on_delete)
        menu.exec(self.table.viewport().mapToGlobal(point))

    def ask_rename(self) -> None:
        old = self.current_tag()
        if old:
            new = self.ask_new_name(old)
            if new and new.strip() and new.strip() != old:
                self.rename_requested.emit(old, new.strip())

    def ask_new_name(self, old: str) -> str | None:
        """Separate so that tests can answer instead of a user."""
        text, ok = QInputDialog.getText(self, "Rename tag", f"Rename '{old}' in every caption to:", text=old)
        return text if ok else None

    def _on_delete(self) -> None:
        if tag := self.current_tag():
            self.delete_requested.emit(tag)

    def _on_show_all(self) -> None:
        self.table.clearSelection()
        self.tag_chosen.emit("")


def side_tabs(summary: QWidget, tags: TagPanel, parent: QWidget) -> QTabWidget:
    """The Datasets page's right column: the summary and the tag list share it."""
    tabs = QTabWidget(parent)
    # The summary grows with the dataset (buckets, caption problems): it scrolls inside its tab
    # rather than making the whole page taller than a 720-pixel screen.
    scroller = QScrollArea(tabs)
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroller.setWidget(summary)
    tabs.addTab(scroller, "Summary")
    tabs.addTab(tags, "Tags")
    tabs.setMinimumWidth(240)  # the summary, its numbers and a vertical scroll bar
    return tabs
