"""A post's production: "Run pipeline" for an approved post, then its steps as they go.

Shows what the Plans page hands it: the item, its PipelineStatus (read when the post or its run
changes) and the snapshots of the step jobs from the job hub as they arrive; a failed step turns
red with its job's error. Says when the user asks to run. "Show folder" opens the published
folder once the post is ready.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.models import PlanItem
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.pipelines.service import PipelineStatus, StepStatus
from studio.ui.context import StudioContext
from studio.ui.error_actions import for_window
from studio.ui.theme_style import tone
from studio.ui.widgets.failure_banner import FailureBanner
from studio.ui.widgets.publish_status import PublishStatus

RUNNABLE = ("approved", "failed")
STEP_NAMES = {"image": "Picture", "video": "Clip", "export": "Export", "publish": "Publish folder"}
STATE_TEXT = {"idle": "Not produced yet.", "running": "Producing…",
              "failed": "The last run failed; run it again to go on from the failed step.",
              "ready": "Ready: the post's folder is published."}
STEP_TONES = {"done": "ok", "running": "running", "failed": "error"}  # theme_style.TONES
STEP_STATES = {JobStatus.PENDING: "waiting", JobStatus.PROCESSING: "running",
               JobStatus.COMPLETED: "done", JobStatus.FAILED: "failed", JobStatus.CANCELED: "failed"}
COLUMNS = ("Step", "Status", "Progress", "Detail")


class PipelinePanel(QWidget):
    run_requested = Signal(object)  # item id

    def __init__(self, parent: QWidget | None = None, *, context: StudioContext | None = None) -> None:
        super().__init__(parent)
        self.item: PlanItem | None = None
        self.status: PipelineStatus | None = None
        self.publish = PublishStatus(context, self) if context is not None else None  # under the steps
        title = QLabel("<b>Production</b>", self)
        self.state = QLabel(self)
        self.state.setObjectName("pipeline-state")
        self.state.setWordWrap(True)
        self.run_button = QPushButton("Run pipeline", self)
        self.run_button.setToolTip("Picture, clip, export and publish folder, on the queue")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.folder_button = QPushButton("Show folder", self)
        self.folder_button.setToolTip("Open the folder with the file, cover and caption to upload")
        self.folder_button.clicked.connect(self.open_folder)
        self.banner = FailureBanner(self)  # a failed step's reason and the button that helps; Run again retries
        self._build_steps()
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.state)
        layout.addLayout(buttons)
        layout.addWidget(self.steps)
        layout.addWidget(self.banner)
        if self.publish is not None:
            layout.addWidget(self.publish)
        self.show_item(None)

    def _build_steps(self) -> None:
        self.steps = QTableWidget(0, len(COLUMNS), self)
        self.steps.setObjectName("pipeline-steps")
        self.steps.setHorizontalHeaderLabels(COLUMNS)
        self.steps.verticalHeader().hide()
        self.steps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.steps.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.steps.setWordWrap(False)
        header = self.steps.horizontalHeader()
        for column in (0, 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 80)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.steps.setFixedHeight(self.steps.horizontalHeader().sizeHint().height()
                                  + 4 * self.steps.verticalHeader().defaultSectionSize() + 4)

    def show_item(self, item: PlanItem | None) -> None:
        if item is None or self.item is None or item.id != self.item.id:
            self.status = None
            self.steps.setRowCount(0)
            self.banner.hide()
        self.item = item
        self._update()
        if self.publish is not None:
            self.publish.show_item(item)

    def show_status(self, status: PipelineStatus) -> None:
        if status == self.status:
            return  # most reads change nothing, and redrawing costs
        self.status = status
        self._render(status.steps)
        self._update()

    def show_jobs(self, snapshots: Iterable[JobSnapshot]) -> None:
        """The step jobs' latest state from the hub, on rows not already done."""
        if self.status is None:
            return
        jobs = {s.id: s for s in snapshots}
        steps = [_from_job(step, jobs[step.job_id])
                 if step.status != "done" and step.job_id in jobs else step
                 for step in self.status.steps]
        if steps != self.status.steps:
            self.status = replace(self.status, steps=steps)
            self._render(steps)

    def _render(self, steps: list[StepStatus]) -> None:
        self.steps.setRowCount(len(steps))
        for row, step in enumerate(steps):
            name = QTableWidgetItem(STEP_NAMES.get(step.name, step.name))
            state = QTableWidgetItem(step.status)
            if step.status in STEP_TONES:
                state.setForeground(QBrush(QColor(tone(STEP_TONES[step.status], self.palette()))))
            worded = for_window(step.detail).text if step.status == "failed" and step.detail else step.detail
            detail = QTableWidgetItem(worded)
            detail.setToolTip(worded)
            for column, cell in ((0, name), (1, state), (3, detail)):
                self.steps.setItem(row, column, cell)
            bar = self.steps.cellWidget(row, 2)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar(self.steps)
                bar.setRange(0, 100)
                self.steps.setCellWidget(row, 2, bar)
            bar.setValue(round(step.progress * 100))
        failed = next((step for step in steps if step.status == "failed" and step.detail), None)
        if failed is None:
            self.banner.hide()
        else:
            self.banner.show_message(for_window(failed.detail))

    def open_folder(self) -> None:
        if self.status is not None and self.status.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.status.folder)))

    def _update(self) -> None:
        item, status = self.item, self.status
        running = status is not None and status.state == "running"
        self.run_button.setEnabled(item is not None and item.status in RUNNABLE and not running)
        self.run_button.setText("Run again" if status is not None and status.state == "failed"
                                else "Run pipeline")
        self.folder_button.setVisible(status is not None and status.folder is not None)
        self.setVisible(item is not None)  # nothing to produce without a post
        if item is None:
            self.state.setText("")
        elif status is None:
            self.state.setText("…")
        elif status.state == "idle" and item.status not in RUNNABLE:
            self.state.setText("Approve the post to produce it.")
        else:
            self.state.setText(STATE_TEXT.get(status.state, status.state))

    def _on_run_clicked(self) -> None:
        if self.item is not None:
            self.run_requested.emit(self.item.id)


def _from_job(step: StepStatus, job: JobSnapshot) -> StepStatus:
    state = STEP_STATES[job.status]
    detail = (job.error or job.message) if state == "failed" else (job.stage or job.message)
    return StepStatus(step.name, state, job.id, 1.0 if state == "done" else job.progress, detail)
