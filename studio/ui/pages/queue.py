"""The job queue: a live table of this workspace's jobs, with Retry and Cancel."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, QTimer
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QStyle, QStyledItemDelegate,
                               QStyleOptionProgressBar, QStyleOptionViewItem, QTableView,
                               QVBoxLayout, QWidget)

from studio.engine.db.types import utcnow
from studio.engine.jobs.status import STATUSES
from studio.ui.context import StudioContext
from studio.ui.models.jobs import JOB_ID_ROLE, PROGRESS, STATUS, JobRow, JobTableModel
from studio.ui.tasks import run_in_background
from studio.ui.widgets.workers_panel import WorkersPanel

POLL_MS = 300
# Rows written by another process just before our last poll may carry a slightly earlier
# timestamp than the moment we asked; asking again with some overlap never misses them.
OVERLAP = timedelta(seconds=3)


# A finished job's bar says how it ended at a glance; running ones keep the theme's colour.
BAR_COLOURS = {"completed": "#2e8b57", "failed": "#c0392b", "canceled": "#7f8c8d"}


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        status = str(index.siblingAtColumn(STATUS).data() or "")
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 5, -4, -5)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(round(float(index.data() or 0.0) * 100))
        bar.text = f"{bar.progress}%" if status not in ("failed", "canceled") else status
        bar.textVisible = True
        bar.state = option.state
        bar.palette = QPalette(option.palette)
        if status in BAR_COLOURS:
            bar.palette.setColor(QPalette.ColorRole.Highlight, QColor(BAR_COLOURS[status]))
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class QueuePage(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = JobTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(STATUS)
        self._since: datetime | None = None
        self._polling = False
        self._generation = 0  # results of a poll for an earlier workspace are dropped
        self._build()
        self.context.workspace_changed.connect(self._on_workspace_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    def _build(self) -> None:
        self.filter = QComboBox(self)
        self.filter.addItem("All jobs", "")
        for status in STATUSES:
            self.filter.addItem(status.capitalize(), status)
        self.filter.currentIndexChanged.connect(self._on_filter_changed)
        self.retry_button = QPushButton("Retry", self)
        self.cancel_button = QPushButton("Cancel job", self)
        self.retry_button.clicked.connect(self._on_retry_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.summary = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:", self))
        bar.addWidget(self.filter)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.cancel_button)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((210, 70, 85, 110, 190, 70, 70, 140)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.dataChanged.connect(self._on_selection_changed)

        title = QLabel("<h2>Queue</h2>Every job of this workspace, live. Retry a failed or canceled "
                       "job, or cancel one that waits or runs.", self)
        title.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.workers = WorkersPanel(self.context, self)
        layout.addWidget(self.workers)
        self._on_selection_changed()

    # Polling --------------------------------------------------------------------------------

    def poll(self) -> None:
        if self._polling:
            return
        self._polling = True
        jobs, workspace_id, since = self.context.studio.jobs, self.context.workspace_id, self._since
        generation = self._generation

        def fetch() -> tuple[datetime, list[JobRow]]:
            asked_at = utcnow()
            found = jobs.changed_since(workspace_id, since) if since else jobs.list(workspace_id)
            return asked_at, [JobRow.of(job) for job in found]

        run_in_background(fetch, receiver=self, on_done=lambda r: self._on_polled(generation, r),
                          on_error=self._on_poll_failed)

    def _on_polled(self, generation: int, result: tuple[datetime, Sequence[JobRow]]) -> None:
        self._polling = False
        if generation != self._generation:
            self.poll()
            return
        asked_at, rows = result
        if self._since is None:
            self.model.reset(rows)
        else:
            self.model.upsert(rows)
        self._since = asked_at - OVERLAP
        self.model.tick()
        self._update_summary()

    def _on_poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        self.summary.setText(f"Cannot read the jobs right now: {exc}")

    def _on_workspace_changed(self) -> None:
        self._generation += 1
        self._since = None
        self.model.reset([])
        self.poll()

    def _update_summary(self) -> None:
        rows = self.model.rows()
        waiting = sum(r.status == "pending" for r in rows)
        running = sum(r.status == "processing" for r in rows)
        self.summary.setText(f"{running} running, {waiting} waiting, {len(rows)} in all")

    # Selection and actions --------------------------------------------------------------------

    def selected_job(self) -> JobRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        job_id = rows[0].data(JOB_ID_ROLE)
        return self.model.job(job_id) if isinstance(job_id, uuid.UUID) else None

    def select_job(self, job_id: uuid.UUID) -> bool:
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(JOB_ID_ROLE) == job_id:
                self.table.selectRow(row)
                return True
        return False

    def _on_selection_changed(self, *_: object) -> None:
        job = self.selected_job()
        self.retry_button.setEnabled(job is not None and job.status in ("failed", "canceled"))
        self.cancel_button.setEnabled(job is not None and job.status in ("pending", "processing"))

    def _on_filter_changed(self) -> None:
        status = self.filter.currentData()
        self.proxy.setFilterRegularExpression(f"^{status}$" if status else "")
        self._on_selection_changed()

    def _on_retry_clicked(self) -> None:
        self._act(lambda jobs, ws, job_id: jobs.retry(ws, job_id))

    def _on_cancel_clicked(self) -> None:
        self._act(lambda jobs, ws, job_id: jobs.cancel(ws, job_id))

    def _act(self, action: object) -> None:
        job = self.selected_job()
        if job is None:
            return
        self.retry_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        jobs, workspace_id, job_id = self.context.studio.jobs, self.context.workspace_id, job.id
        run_in_background(lambda: action(jobs, workspace_id, job_id),  # type: ignore[operator]
                          receiver=self, on_done=lambda _: self.poll())
