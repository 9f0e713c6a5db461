"""The job table: the hub's job snapshots keyed by job id, changed rows updated in place."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.error_actions import for_window

COLUMNS = ("Job", "Queue", "Status", "Progress", "Stage / message", "Attempts", "Duration", "Error",
           "Worker")
TITLE, QUEUE, STATUS, PROGRESS, MESSAGE, ATTEMPTS, DURATION, ERROR, WORKER = range(len(COLUMNS))
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


def worker_label(worker_id: str) -> str:
    """``host:pid:tag`` → ``host (pid)``."""
    parts = worker_id.split(":")
    return f"{parts[0]} ({parts[1]})" if len(parts) >= 2 else worker_id


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


class JobTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[JobSnapshot] = []
        self._index: dict[uuid.UUID, int] = {}

    # Qt's side -------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == JOB_ID_ROLE:
            return row.id
        if role == STATUS_ROLE:
            return row.status.value
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == ERROR and row.error:
                return for_window(row.error).text
            if index.column() == TITLE:
                return f"{row.type} · {row.id}"
            if index.column() == MESSAGE:
                return self._display(row, MESSAGE)
            if index.column() == WORKER and row.worker_id:
                return row.worker_id
        return None

    def _display(self, row: JobSnapshot, column: int) -> Any:
        match column:
            case 0:
                return row.title
            case 1:
                return row.queue
            case 2:
                return row.status.value
            case 3:
                return row.progress
            case 4:
                return " · ".join(part for part in (row.stage, row.message) if part)
            case 5:
                return f"{row.attempts} of {row.max_attempts}" if row.attempts else ""
            case 6:
                return format_duration(row.duration_s())
            case 7:
                return for_window(row.error.splitlines()[0]).text if row.error else ""
            case 8:
                return worker_label(row.worker_id)
        return None

    # The page's side ------------------------------------------------------------------------

    def job(self, job_id: uuid.UUID) -> JobSnapshot | None:
        position = self._index.get(job_id)
        return None if position is None else self._rows[position]

    def rows(self) -> list[JobSnapshot]:
        return list(self._rows)

    def reset(self, rows: Iterable[JobSnapshot]) -> None:
        self.beginResetModel()
        self._rows = sorted(rows, key=lambda r: r.created_at, reverse=True)
        self._index = {row.id: i for i, row in enumerate(self._rows)}
        self.endResetModel()

    def upsert(self, rows: Iterable[JobSnapshot]) -> None:
        """Changed rows are replaced where they are; new ones go on top, newest first."""
        new: list[JobSnapshot] = []
        for row in rows:
            position = self._index.get(row.id)
            if position is None:
                new.append(row)
            elif self._rows[position] != row:
                self._rows[position] = row
                self.dataChanged.emit(self.index(position, 0), self.index(position, len(COLUMNS) - 1))
        if new:
            new.sort(key=lambda r: r.created_at, reverse=True)
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows[0:0] = new
            self._index = {row.id: i for i, row in enumerate(self._rows)}
            self.endInsertRows()

    def tick(self) -> None:
        """Running jobs' durations grow without a new row; repaint just that column."""
        for position, row in enumerate(self._rows):
            if row.status is JobStatus.PROCESSING:
                cell = self.index(position, DURATION)
                self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole])
