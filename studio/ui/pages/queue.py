"""The job queue: a live table of this workspace's jobs, with Retry and Cancel.

Rows come from the job hub (``context.jobs``); the page reads nothing itself. One timer stays:
"duration-tick" repaints the running jobs' duration column once a second, reading nothing.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.engine.jobs.service import JobService
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import STATUSES, JobStatus
from studio.ui.context import StudioContext
from studio.ui.errors import show_error
from studio.ui.models.jobs import ERROR, JOB_ID_ROLE, MESSAGE, PROGRESS, STATUS, TITLE, JobTableModel
from studio.ui.tasks import run_in_background
from studio.ui.timers import repeating_timer, single_shot_timer
from studio.ui.widgets.workers_panel import WorkersPanel

TICK_MS = 1000
TIMER_NAME = "duration-tick"  # repaints running jobs' durations; reads nothing

# A finished job's bar says how it ended at a glance; running ones keep the theme's colour.
BAR_COLOURS = {JobStatus.COMPLETED: "#2e8b57", JobStatus.FAILED: "#c0392b",
               JobStatus.CANCELED: "#7f8c8d"}
ENDED_BADLY = (JobStatus.FAILED, JobStatus.CANCELED)
# Free text and the bar have no natural width: fixed ones, which the user can drag.
FIXED_WIDTHS = {PROGRESS: 100, MESSAGE: 170, ERROR: 150}
SIZE_SAMPLE_ROWS = 30  # rows measured when fitting a column to its contents: the newest screenful
FIT_MS = 1000  # the short columns are fitted to their contents at most this often


class ProgressDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        status = str(index.sibling(index.row(), STATUS).data() or "")
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 5, -4, -5)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = round(float(index.data() or 0.0) * 100)
        bar.text = status if status in ENDED_BADLY else f"{bar.progress}%"
        bar.textVisible = True
        bar.state = option.state
        bar.palette = QPalette(option.palette)
        if status in BAR_COLOURS:
            bar.palette.setColor(QPalette.ColorRole.Highlight, QColor(BAR_COLOURS[JobStatus(status)]))
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class QueuePage(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = JobTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(STATUS)
        self._build()
        context.jobs.jobs_changed.connect(self._on_jobs_changed)
        context.jobs.reset.connect(self._on_jobs_reset)
        self._tick = repeating_timer(self, name=TIMER_NAME, interval_ms=TICK_MS)
        self._tick.timeout.connect(self.model.tick)
        self._tick.start()
        self.model.reset(context.jobs.snapshots())
        self._update_summary()

    def _build(self) -> None:
        bar = self._build_bar()
        self._build_table()
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

    def _build_bar(self) -> QHBoxLayout:
        self.filter = QComboBox(self)
        self.filter.addItem("All jobs", "")
        for status in STATUSES:
            self.filter.addItem(status.capitalize(), status.value)
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
        return bar

    def _build_table(self) -> None:
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self._size_columns()
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.dataChanged.connect(self._on_selection_changed)

    def _size_columns(self) -> None:
        """The job's name takes what is left; short columns fit their contents (measured on the
        first rows only, so a long queue costs nothing); free text gets a fixed, movable width.

        Short columns are fitted at most once a second after rows change, not by Qt's
        ResizeToContents mode: that measured the first rows again at every change of any row,
        and stalled the window 150–250 ms while a worker finished jobs (bench/live_state.py)."""
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setResizeContentsPrecision(SIZE_SAMPLE_ROWS)
        header.setMinimumSectionSize(48)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        for column, width in FIXED_WIDTHS.items():
            self.table.setColumnWidth(column, width)
        self._fit = single_shot_timer(self, interval_ms=FIT_MS)
        self._fit.timeout.connect(self._fit_columns)
        for signal in (self.model.rowsInserted, self.model.modelReset, self.model.dataChanged):
            signal.connect(self._fit_soon)
        self._fit_columns()

    def _fit_soon(self, *_: object) -> None:
        if not self._fit.isActive():  # a throttle, not a debounce: rows change all the time
            self._fit.start()

    def _fit_columns(self) -> None:
        for column in range(self.model.columnCount()):
            if column != TITLE and column not in FIXED_WIDTHS:
                self.table.resizeColumnToContents(column)

    # Following the hub ------------------------------------------------------------------------

    def _on_jobs_changed(self, snapshots: list[JobSnapshot]) -> None:
        self.model.upsert(snapshots)
        self._update_summary()

    def _on_jobs_reset(self) -> None:
        """Another workspace is shown; the hub sends its jobs as soon as it has read them."""
        self.model.reset([])
        self._update_summary()

    def _update_summary(self) -> None:
        rows = self.model.rows()
        waiting = sum(r.status is JobStatus.PENDING for r in rows)
        running = sum(r.status is JobStatus.PROCESSING for r in rows)
        self.summary.setText(f"{running} running, {waiting} waiting, {len(rows)} in all")

    # Selection and actions --------------------------------------------------------------------

    def selected_job(self) -> JobSnapshot | None:
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
        self.retry_button.setEnabled(job is not None and job.status in ENDED_BADLY)
        self.cancel_button.setEnabled(job is not None and job.active)

    def _on_filter_changed(self) -> None:
        status = self.filter.currentData()
        self.proxy.setFilterRegularExpression(f"^{status}$" if status else "")
        self._on_selection_changed()

    def _on_retry_clicked(self) -> None:
        self._act(lambda jobs, ws, job_id: jobs.retry(ws, job_id))

    def _on_cancel_clicked(self) -> None:
        self._act(lambda jobs, ws, job_id: jobs.cancel(ws, job_id))

    def _act(self, action: Callable[[JobService, uuid.UUID, uuid.UUID], object]) -> None:
        """The hub hears the write and brings the changed row; nothing is read here."""
        job = self.selected_job()
        if job is None:
            return
        self.retry_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        jobs, workspace_id, job_id = self.context.studio.jobs, self.context.workspace_id, job.id
        run_in_background(lambda: action(jobs, workspace_id, job_id), receiver=self,
                          on_error=self._on_act_failed)

    def _on_act_failed(self, exc: BaseException) -> None:
        self._on_selection_changed()
        show_error(self, exc)  # it finished meanwhile, or the database is away
