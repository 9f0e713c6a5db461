"""Progress of the dataset's import, analysis and auto-caption jobs, and the import report.

The panel draws the job hub's snapshots of the job it is shown (``DatasetJobs`` picks them);
when an import is done, it lists what was refused, and what was changed on the way in (a caption
cleaned of control characters, or left out for its size). A job that failed shows its reason in
the failure banner, with Retry.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.error_actions import for_window
from studio.ui.job_follow import WaitingReasons
from studio.ui.job_hub import JobHub
from studio.ui.widgets.failure_banner import FailureBanner


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
        self.report.setHeaderLabels(["File", "Refused because / changed on import"])
        self.report.setRootIsDecorated(False)
        self.report.setColumnWidth(0, 300)
        self.report.setMaximumHeight(140)
        self.report.hide()
        self.banner = FailureBanner(self)
        self.waiting: WaitingReasons | None = None
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.bar, 1)
        top.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.counts)
        layout.addWidget(self.report)
        self.setObjectName("import-panel")
        self.hide()

    def attach(self, hub: JobHub) -> None:
        """The hub Retry and the waiting reasons need."""
        self.banner.attach(hub)
        self.waiting = WaitingReasons(hub, self)
        self.waiting.found.connect(self._on_waiting_reason)

    def start(self, title: str, *, new_report: bool = False) -> None:
        """Shows a job starting; an import clears the previous import's report."""
        if new_report:
            self.counts.hide()
            self.report.clear()
            self.report.hide()
        self.title.setText(title)
        self.bar.setValue(0)
        self.bar.show()
        self.banner.hide()
        self.show()

    def show_progress(self, job: JobSnapshot, title: str) -> None:
        self.title.setText(f"{title}: {job.message}" if job.message else title)
        self.bar.setValue(round(job.progress * 100))
        if self.waiting is not None:
            self.waiting.explain(job.id if job.status is JobStatus.PENDING else None)

    def _stop_waiting(self) -> None:
        if self.waiting is not None:
            self.waiting.explain(None)

    def _on_waiting_reason(self, _job_id: object, reason: str) -> None:
        if reason:
            self.title.setText(reason)

    def show_ended(self, noun: str, job: JobSnapshot) -> None:
        """How an analysis or auto-caption ended, in one line."""
        self.title.setText(f"{noun} finished." if job.status is JobStatus.COMPLETED
                           else f"{noun} {job.status.value}.")
        self.bar.setValue(100)
        self._stop_waiting()
        self.banner.show_jobs([job])

    def show_import_report(self, job: JobSnapshot) -> None:
        self.bar.setValue(100)
        self._stop_waiting()
        if job.status is not JobStatus.COMPLETED or job.result is None:
            reason = "" if job.status is JobStatus.FAILED else f": {for_window(job.error or job.message).text}"
            self.title.setText(f"The import {job.status.value}{reason}")
            self.banner.show_jobs([job])
            return
        result = job.result
        # Refused files, and imported ones whose caption was cleaned or left out.
        refused = [r for r in result.get("rows", []) if r.get("status") == "refused" or r.get("note")]
        self.title.setText("Import finished.")
        self.counts.setText(f"Import: {describe_counts(result)}.")
        self.counts.show()
        self.report.clear()
        for row in refused:
            item = QTreeWidgetItem([str(row.get("source", "")), str(row.get("reason") or row.get("note", ""))])
            item.setToolTip(0, str(row.get("source", "")))
            self.report.addTopLevelItem(item)
        self.report.setVisible(bool(refused))

    def refused(self) -> list[tuple[str, str]]:
        items = (self.report.topLevelItem(i) for i in range(self.report.topLevelItemCount()))
        return [(item.text(0), item.text(1)) for item in items if item is not None]
