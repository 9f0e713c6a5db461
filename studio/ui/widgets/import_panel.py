"""Progress of the dataset's import and analysis jobs, and the import report at the end.

A ``JobWatcher`` polls one job row off the UI thread (like the Queue page) and reports its
changes; the panel shows them as a bar and, when an import is done, lists what was refused.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from studio.ui.tasks import run_in_background

POLL_MS = 300
FINISHED = ("completed", "failed", "canceled")


@dataclass(frozen=True, slots=True)
class JobState:
    id: uuid.UUID
    type: str
    status: str
    progress: float
    message: str
    error: str
    result: dict[str, Any] | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobWatcher(QObject):
    job_changed = Signal(object)  # JobState
    job_finished = Signal(object)  # JobState

    def __init__(self, fetch: Callable[[uuid.UUID], JobState], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self.job_id: uuid.UUID | None = None
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timeout)

    def watch(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self._timer.start()
        self._on_timeout()

    def _on_timeout(self) -> None:
        if self._busy or self.job_id is None:
            return
        self._busy = True
        fetch, job_id = self._fetch, self.job_id
        run_in_background(lambda: fetch(job_id), receiver=self, on_done=self._on_fetched,
                          on_error=self._on_fetch_failed)

    def _on_fetched(self, state: JobState) -> None:
        self._busy = False
        if state.id != self.job_id:
            return
        self.job_changed.emit(state)
        if state.finished:
            self._timer.stop()
            self.job_id = None
            self.job_finished.emit(state)

    def _on_fetch_failed(self, exc: BaseException) -> None:
        self._busy = False  # try again at the next tick


def describe_counts(result: dict[str, Any]) -> str:
    parts = [f"{result.get('imported', 0)} imported"]
    if result.get("duplicates"):
        parts.append(f"{result['duplicates']} already in the dataset")
    parts.append(f"{result.get('refused', 0)} refused")
    return ", ".join(parts)


class ImportPanel(QWidget):
    """Hidden until a job runs; stays with the report until closed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.hide)
        self.counts = QLabel(self)
        self.counts.setObjectName("import-counts")
        self.counts.hide()
        self.report = QTreeWidget(self)
        self.report.setObjectName("import-report")
        self.report.setHeaderLabels(["Refused file", "Reason"])
        self.report.setRootIsDecorated(False)
        self.report.setColumnWidth(0, 300)
        self.report.setMaximumHeight(140)
        self.report.hide()
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.bar, 1)
        top.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.counts)
        layout.addWidget(self.report)
        self.setObjectName("import-panel")
        self.hide()

    def start(self, title: str, *, new_report: bool = False) -> None:
        """Shows a job starting; an import clears the previous import's report."""
        if new_report:
            self.counts.hide()
            self.report.clear()
            self.report.hide()
        self.title.setText(title)
        self.bar.setValue(0)
        self.bar.show()
        self.show()

    def show_progress(self, state: JobState, title: str) -> None:
        self.title.setText(f"{title}: {state.message}" if state.message else title)
        self.bar.setValue(int(round(state.progress * 100)))

    def show_import_report(self, state: JobState) -> None:
        self.bar.setValue(100)
        if state.status != "completed" or state.result is None:
            self.title.setText(f"The import {state.status}: {state.error or state.message}")
            return
        result = state.result
        refused = [r for r in result.get("rows", []) if r.get("status") == "refused"]
        self.title.setText("Import finished.")
        self.counts.setText(f"Import: {describe_counts(result)}.")
        self.counts.show()
        self.report.clear()
        for row in refused:
            item = QTreeWidgetItem([str(row.get("source", "")), str(row.get("reason", ""))])
            item.setToolTip(0, str(row.get("source", "")))
            self.report.addTopLevelItem(item)
        self.report.setVisible(bool(refused))

    def refused(self) -> list[tuple[str, str]]:
        return [(self.report.topLevelItem(i).text(0), self.report.topLevelItem(i).text(1))
                for i in range(self.report.topLevelItemCount())]
