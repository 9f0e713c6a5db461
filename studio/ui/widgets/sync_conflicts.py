"""Sync conflicts: a field changed here and on the server since the last sync, or a record made on
both desks under one name, is shown in both versions, and the user keeps one. Nothing is
overwritten until they choose."""
from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.sync.records import SyncState, WorkspaceSync
from studio.engine.sync.sides import open_sides
from studio.engine.sync.state import CLASH, conflict_kind
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background

CLASH_NOTE = ("Made on both desks separately under one name. Either way the two become one "
              "record, and what hangs on this desk's one joins it; choose whose values it keeps.")
FIELDS_NOTE = "Changed on both desks since the last sync; the rest of this record was merged."


def load_conflicts(state_dir: Any, workspace_id: uuid.UUID) -> list[dict[str, Any]]:
    return list(SyncState(state_dir, workspace_id).conflicts.values())


def conflict_title(conflict: dict[str, Any]) -> str:
    """What the list shows: the kind of record, then the fields or the name at stake."""
    what = conflict["table"].replace("_", " ").removesuffix("s").capitalize()
    if conflict_kind(conflict) == CLASH:
        name = next((conflict["mine"][k] for k in ("name", "original_name", "sha256")
                     if k in conflict["mine"]), conflict["row_id"])
        return f"{what} · '{name}' made on both desks"
    return f"{what} · {', '.join(conflict['mine'])}"


class SyncConflictsDialog(QDialog):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Sync conflicts")
        self.conflicts: list[dict[str, Any]] = []
        self.list = QListWidget(self)
        self.list.setWordWrap(True)  # a clash's title is long; wrapped, not cut behind a scroll bar
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(self._show)
        self.fields = QGridLayout()
        self.detail = QWidget(self)
        self.detail.setLayout(self.fields)
        self.keep_mine = QPushButton("Keep mine", self)
        self.keep_theirs = QPushButton("Keep theirs", self)
        self.keep_mine.clicked.connect(lambda: self._resolve("mine"))
        self.keep_theirs.clicked.connect(lambda: self._resolve("theirs"))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        choose = QHBoxLayout()
        choose.addWidget(self.status, 1)
        choose.addWidget(self.keep_mine)
        choose.addWidget(self.keep_theirs)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addWidget(self.detail, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Changed here and on the server since the last sync. Neither "
                                "version is lost until you choose one.", self))
        layout.addLayout(body, 1)
        layout.addLayout(choose)
        layout.addWidget(buttons)
        self.resize(820, 420)
        self.reload()

    def reload(self) -> None:
        state_dir = self.context.studio.paths.data_dir / "sync"
        workspace_id = self.context.workspace_id
        run_in_background(lambda: load_conflicts(state_dir, workspace_id), receiver=self,
                          on_done=self._loaded, on_error=self._failed, lane="io")

    def _loaded(self, conflicts: list[dict[str, Any]]) -> None:
        self.conflicts = conflicts
        self.list.clear()
        for conflict in conflicts:
            item = QListWidgetItem(conflict_title(conflict))
            item.setToolTip(item.text())
            self.list.addItem(item)
        enabled = bool(conflicts)
        self.keep_mine.setEnabled(enabled)
        self.keep_theirs.setEnabled(enabled)
        self.status.setText(f"{len(conflicts)} to settle" if conflicts else "No sync conflicts.")
        if conflicts:
            self.list.setCurrentRow(0)
        else:
            self._show(-1)

    def _show(self, row: int) -> None:
        while self.fields.count():
            item = self.fields.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if not 0 <= row < len(self.conflicts):
            return
        conflict = self.conflicts[row]
        note = QLabel(CLASH_NOTE if conflict_kind(conflict) == CLASH else FIELDS_NOTE, self.detail)
        note.setObjectName("note")
        note.setWordWrap(True)
        self.fields.addWidget(note, 0, 0, 1, 3)
        self.fields.addWidget(QLabel("<b>Mine</b>", self.detail), 1, 1)
        self.fields.addWidget(QLabel("<b>Theirs (server)</b>", self.detail), 1, 2)
        shown = [name for name in conflict["mine"] if name != "id"]  # ids mean nothing to people
        for line, name in enumerate(shown, start=2):
            self.fields.addWidget(QLabel(name.replace("_", " "), self.detail), line, 0)
            for column, side in ((1, "mine"), (2, "theirs")):
                text = QPlainTextEdit(str(conflict[side].get(name, "")), self.detail)
                text.setReadOnly(True)
                text.setObjectName(f"{side}:{name}")
                self.fields.addWidget(text, line, column)

    def _resolve(self, keep: str) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.conflicts):
            return
        row_id = str(self.conflicts[row]["row_id"])
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self.keep_mine.setEnabled(False)
        self.keep_theirs.setEnabled(False)
        self.status.setText("Saving your choice…")

        def work() -> None:
            sides = open_sides(studio.db, studio.paths, studio.settings, studio.secrets)
            try:
                WorkspaceSync(sides, workspace_id).resolve(row_id, keep)
            finally:
                sides.server.dispose()

        run_in_background(work, receiver=self, on_done=lambda _: self.reload(),
                          on_error=self._failed, lane="io")

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not settle it: {one_line(exc)}")
        self.keep_mine.setEnabled(bool(self.conflicts))
        self.keep_theirs.setEnabled(bool(self.conflicts))
