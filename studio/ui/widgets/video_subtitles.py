"""Subtitle editor: a timing list (start, end, text) the creator edits, with a live preview.

Lines come from an .srt, from the post's caption (timed to the clip), or are typed; Add puts a
line at the playhead, kept inside the clip. Every edit emits ``cues_changed``; ``cue_at`` gives
the line to show at a player position.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QInputDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.errors import InvalidInput
from studio.engine.media.subtitles import Cue, cues_from_caption

COLUMNS = ("Start (s)", "End (s)", "Text")
LINE_S = 2.0  # a new line's length, where the clip leaves room
SHORTEST_S = 0.5  # a line added at the very end still lasts this long


class SubtitleEditor(QWidget):
    cues_changed = Signal()
    import_requested = Signal()
    save_requested = Signal()
    problem_found = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration_s = 0.0  # 0: not known, nothing to clamp to
        self.playhead_s = 0.0  # where the player stands; the page keeps it
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("subtitle-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 70)
        self.table.setColumnWidth(1, 70)
        self.table.itemChanged.connect(lambda _item: self.cues_changed.emit())
        buttons = QGridLayout()  # two rows: the page must fit a small window
        for index, (text, tip, slot) in enumerate((
                ("Add", "Add a line at the playhead", self.add_line),
                ("Remove", "Remove the selected lines", self.remove_selected),
                ("Caption…", "Make timed lines from the post's caption", self._ask_caption),
                ("Open…", "Open an .srt file", self.import_requested.emit),
                ("Save…", "Save the lines as an .srt file", self.save_requested.emit))):
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button, index // 3, index % 3)
        buttons.setColumnStretch(3, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(buttons)
        column.addWidget(self.table, 1)

    def set_cues(self, cues: list[Cue]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for cue in cues:
            self._append(cue)
        self.table.blockSignals(False)
        self.cues_changed.emit()

    def cues(self) -> list[Cue]:
        """The lines as typed; a row whose times are not numbers is left out."""
        found = []
        for row in range(self.table.rowCount()):
            try:
                start = float(self._text(row, 0))
                end = float(self._text(row, 1))
            except ValueError:
                continue
            text = self._text(row, 2).replace("\\n", "\n").strip()
            if text:
                found.append(Cue(start, end, text))
        return sorted(found, key=lambda c: c.start_s)

    def cue_at(self, seconds: float) -> str:
        for cue in self.cues():
            if cue.start_s <= seconds < cue.end_s:
                return cue.text
        return ""

    def add_line(self) -> None:
        """A line at the playhead, in time order, never running past the clip's end."""
        start, end = line_span(self.playhead_s, self.duration_s)
        row = sum(1 for cue in self.cues() if cue.start_s <= start)
        self.table.blockSignals(True)
        self._insert(Cue(start, end, "New line"), row)
        self.table.blockSignals(False)
        self.table.selectRow(row)
        self.table.scrollTo(self.table.model().index(row, 2))
        self.cues_changed.emit()

    def remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.cues_changed.emit()

    def fill_from_caption(self, caption: str) -> None:
        try:
            self.set_cues(cues_from_caption(caption, self.duration_s or 5.0))
        except InvalidInput as exc:
            self.problem_found.emit(str(exc))

    def _ask_caption(self) -> None:
        text, ok = QInputDialog.getMultiLineText(self, "Subtitles from a caption",
                                                 "The post's caption (hashtags are left out):")
        if ok and text.strip():
            self.fill_from_caption(text)

    def _append(self, cue: Cue) -> None:
        self._insert(cue, self.table.rowCount())

    def _insert(self, cue: Cue, row: int) -> None:
        self.table.insertRow(row)
        for column, value in enumerate((f"{cue.start_s:.2f}", f"{cue.end_s:.2f}",
                                        cue.text.replace("\n", "\\n"))):
            self.table.setItem(row, column, QTableWidgetItem(value))

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""


def line_span(at_s: float, duration_s: float) -> tuple[float, float]:
    """Start and end of a new line at ``at_s``, clamped into a clip of ``duration_s`` (0: unknown)."""
    start = max(0.0, at_s)
    if duration_s <= 0:
        return round(start, 2), round(start + LINE_S, 2)
    start = min(start, max(0.0, duration_s - SHORTEST_S))
    # Shown with two decimals: the end is rounded down, so the table never reads past the end.
    return round(start, 2), math.floor(min(start + LINE_S, duration_s) * 100) / 100
