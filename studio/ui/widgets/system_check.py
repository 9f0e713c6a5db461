"""Help → System check: the doctor's findings, one row each, with the fix in a sentence.

The checks run in the background (some ask ComfyUI or start FFmpeg); "Copy diagnostics" puts a
plain report on the clipboard for a bug report, with secrets redacted.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.core import Studio
from studio.engine.diagnostics import diagnostics_text
from studio.engine.doctor import Check, run_checks
from studio.ui.errors import one_line
from studio.ui.status_bar import COLORS, WORDS
from studio.ui.tasks import run_in_background

COLUMNS = ("", "Part", "Found", "What to do")


class SystemCheckDialog(QDialog):
    checks_shown = Signal()

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.checks: list[Check] = []
        self.setWindowTitle("System check")
        self.setObjectName("system-check")
        self.resize(900, 460)
        self.summary = QLabel("Checking…", self)
        self.summary.setObjectName("system-check-summary")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("system-check-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.again_button = QPushButton("Check again", self)
        self.copy_button = QPushButton("Copy diagnostics", self)
        self.logs_button = QPushButton("Open log folder", self)
        for button in (self.again_button, self.copy_button, self.logs_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.again_button.clicked.connect(self.refresh)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.logs_button.clicked.connect(self.open_logs)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.again_button.setEnabled(False)
        self.copy_button.setEnabled(False)
        self.summary.setText("Checking…")
        studio = self.studio
        run_in_background(lambda: run_checks(studio), receiver=self, lane="io", on_done=self.show_checks,
                          on_error=self._on_failed)

    def _on_failed(self, exc: BaseException) -> None:
        self.again_button.setEnabled(True)
        self.summary.setText(one_line(exc))

    def show_checks(self, checks: Sequence[Check]) -> None:
        self.checks = list(checks)
        self.table.setRowCount(len(self.checks))
        for row, check in enumerate(self.checks):
            mark = QTableWidgetItem(f"● {WORDS.get(check.status, check.status)}")
            mark.setForeground(QColor(COLORS.get(check.status, "#8a8d91")))
            cells = (mark, QTableWidgetItem(check.label), QTableWidgetItem(check.detail),
                     QTableWidgetItem(check.fix))
            for column, cell in enumerate(cells):
                cell.setToolTip(check.detail if column < 3 else check.fix)
                cell.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        problems = sum(1 for c in self.checks if c.status == "problem")
        missing = sum(1 for c in self.checks if c.status == "missing")
        if problems or missing:
            self.summary.setText(f"{problems} problem(s), {missing} part(s) not found. Everything "
                                 "that does not need a missing part still works.")
        else:
            self.summary.setText("Everything the studio uses was found and works.")
        self.again_button.setEnabled(True)
        self.copy_button.setEnabled(True)
        self.checks_shown.emit()

    def diagnostics(self) -> str:
        return diagnostics_text(self.studio, self.checks, qt_version=pyside_version)

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics())
        self.summary.setText("The diagnostics are on the clipboard (no secrets in them).")

    def open_logs(self) -> None:
        self.studio.paths.logs_dir.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.studio.paths.logs_dir)))
