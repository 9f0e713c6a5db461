"""Undo and redo of caption edits: two actions (with the shortcuts; the Edit menu mirrors them)
and two buttons under the caption editor, labelled with what they would take back."""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from studio.engine.datasets.captions import HistoryState

BUTTON_CHARS = 22


class CaptionHistory(QObject):
    undo_requested = Signal()
    redo_requested = Signal()

    def __init__(self, owner: QWidget) -> None:
        super().__init__(owner)
        self.undo_action = QAction("Undo", owner)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = QAction("Redo", owner)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_button = QPushButton("Undo", owner)
        self.redo_button = QPushButton("Redo", owner)
        for action, button, signal in ((self.undo_action, self.undo_button, self.undo_requested),
                                       (self.redo_action, self.redo_button, self.redo_requested)):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setEnabled(False)
            owner.addAction(action)
            button.setMaximumWidth(170)
            action.triggered.connect(signal)
            button.clicked.connect(signal)

    def buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.undo_button)
        row.addWidget(self.redo_button)
        row.addStretch(1)
        return row

    def show_state(self, state: HistoryState) -> None:
        for action, button, enabled, label, verb in (
                (self.undo_action, self.undo_button, state.can_undo, state.undo_label, "Undo"),
                (self.redo_action, self.redo_button, state.can_redo, state.redo_label, "Redo")):
            text = f"{verb} {label}".strip() if enabled else verb
            action.setEnabled(enabled)
            action.setText(text)
            button.setEnabled(enabled)
            button.setText(text if len(text) <= BUTTON_CHARS else text[:BUTTON_CHARS - 1] + "…")
            button.setToolTip(text)
