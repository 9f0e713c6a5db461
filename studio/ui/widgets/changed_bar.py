"""The warning an editor shows when the row it edits was changed elsewhere while it was open.

Non-modal: the edits stay in the form until the user picks "Reload" (show the newer row, drop
the edits) or "Keep mine" (keep the edits; the next save knowingly replaces the newer row).
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

STYLE = ("#changed-bar { background: #fff4d6; border: 1px solid #d9a400; border-radius: 4px; }"
         "#changed-bar QLabel { color: #5c4400; }")


class ChangedElsewhereBar(QFrame):
    reload_requested = Signal()
    keep_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changed-bar")
        self.setStyleSheet(STYLE)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.reload_button = QPushButton("Reload", self)
        self.reload_button.setToolTip("Show the newer version; your edits here are dropped")
        self.keep_button = QPushButton("Keep mine", self)
        self.keep_button.setToolTip("Keep your edits; saving replaces the newer version")
        self.reload_button.clicked.connect(self._on_reload_clicked)
        self.keep_button.clicked.connect(self._on_keep_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.text, 1)
        row.addWidget(self.reload_button)
        row.addWidget(self.keep_button)
        self.hide()

    def warn(self, what: str, *, short: bool = False) -> None:
        """``short`` for a narrow place (the caption box): one line that still says it all."""
        if short:
            self.text.setText(f"Changed elsewhere — {what} was saved elsewhere while you typed.")
            self.text.setToolTip("By another window, the command line or a worker (an auto-caption). "
                                 "Reload shows it; Keep mine saves your text over it.")
        else:
            self.text.setText(f"Changed elsewhere — {what} was saved elsewhere (another window, the "
                              "command line or a worker) while you edited it. Reload, or keep your edits?")
        self.show()

    def _on_reload_clicked(self) -> None:
        self.hide()
        self.reload_requested.emit()

    def _on_keep_clicked(self) -> None:
        self.hide()
        self.keep_requested.emit()
