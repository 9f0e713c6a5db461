"""The Workers view: live workers (this machine's and remote ones), their queues and current job."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from studio.engine.server.workers import WorkerStatus, live_workers
from studio.ui.context import StudioContext
from studio.ui.tasks import run_in_background

POLL_MS = 2000
COLUMNS = ("Host", "PID", "GPU", "Queues", "Heartbeat", "Running now")


class WorkersPanel(QWidget):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._polling = False
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
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self.poll()

    def poll(self) -> None:
        if self._polling:
            return
        self._polling = True
        studio, workspace_id = self.context.studio, self.context.workspace_id
        timeout = studio.settings.worker.heartbeat_timeout_s
        run_in_background(lambda: live_workers(studio.db, workspace_id, timeout_s=timeout),
                          receiver=self, on_done=self.show_workers, on_error=self._failed)

    def show_workers(self, workers: list[WorkerStatus]) -> None:
        self._polling = False
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

    def _failed(self, exc: BaseException) -> None:
        self._polling = False
        self.title.setText(f"<b>Workers</b> — cannot read them right now: {exc}")
