"""The Workers view: live workers (this machine's and remote ones), their queues and current job.

Worker rows are heartbeats, not jobs or data, so no change event names them. The panel reads
them again when what it shows can have changed: a job started or ended (the hub's snapshots;
"Running now" changes), on each round of the health checks, which already ask whether a
worker is alive (the main window connects ``on_health_changed``), and when it is shown. It owns
no timer.
"""
from __future__ import annotations

import uuid

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.server.workers import WorkerStatus, live_workers
from studio.ui.context import StudioContext
from studio.ui.tasks import run_in_background

COLUMNS = ("Host", "PID", "GPU", "Queues", "Heartbeat", "Running now")


class WorkersPanel(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._busy = False
        self._again = False
        self._statuses: dict[uuid.UUID, JobStatus] = {}
        self._build()
        context.jobs.jobs_changed.connect(self._on_jobs_changed)
        context.workspace_changed.connect(self.refresh)
        self.refresh()

    def _build(self) -> None:
        self.title = QLabel("<b>Workers</b>", self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((140, 60, 200, 260, 80)):
            self.table.setColumnWidth(column, width)
        self.table.setMaximumHeight(150)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)

    def on_health_changed(self, _found: object) -> None:
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()  # heartbeat ages as of now

    def _on_jobs_changed(self, snapshots: list[JobSnapshot]) -> None:
        """Progress alone changes nothing shown here; a job starting or ending does."""
        moved = [s for s in snapshots if self._statuses.get(s.id) is not s.status]
        self._statuses.update((s.id, s.status) for s in moved)
        if moved:
            self.refresh()

    def refresh(self) -> None:
        if self._busy:
            self._again = True
            return
        self._busy = True
        studio, workspace_id = self.context.studio, self.context.workspace_id
        timeout = studio.settings.worker.heartbeat_timeout_s
        run_in_background(lambda: live_workers(studio.db, workspace_id, timeout_s=timeout),
                          receiver=self, on_done=self.show_workers, on_error=self._failed)

    def _read_done(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.refresh()

    def show_workers(self, workers: list[WorkerStatus]) -> None:
        self.title.setText(f"<b>Workers</b> — {len(workers)} live" if workers else
                           "<b>Workers</b> — none live: jobs wait until one starts")
        self.table.setRowCount(len(workers))
        for row, worker in enumerate(workers):
            running = list(worker.current)
            if worker.busy_elsewhere:
                running.append(f"{worker.busy_elsewhere} job(s) of another workspace")
            cells = (worker.host, str(worker.pid), worker.gpu or "none found", ", ".join(worker.queues),
                     f"{worker.heartbeat_age_s:.0f} s ago", "; ".join(running) or "idle")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{worker.id} · version {worker.app_version}")
                self.table.setItem(row, column, item)
        self._read_done()

    def _failed(self, exc: BaseException) -> None:
        self.title.setText(f"<b>Workers</b> — cannot read them right now: {exc}")
        self._read_done()
