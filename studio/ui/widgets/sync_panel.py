"""Publish, open and sync workspaces from the Team server dialog.

Each action queues the same ``sync-workspace`` job as ``server publish|open|sync``; the panel
follows the job through the app's job hub (progress, then a one-line result), switches to a
workspace it opens as soon as its sync is queued (the hub watches the workspace shown, and the
records then arrive as the sync writes them), and opens the conflicts dialog when the sync
stopped at fields changed on both sides. Nothing here waits on the UI thread.
"""
from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.sync.jobs import queue_sync
from studio.engine.sync.records import WorkspaceSync
from studio.engine.sync.sides import Sides, open_sides, server_workspaces
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.error_actions import for_window
from studio.ui.errors import one_line
from studio.ui.job_follow import JobFollower
from studio.ui.tasks import run_in_background


def sync_unavailable(studio: Studio) -> str:
    """Why this studio cannot publish or sync; "" when it can."""
    if not studio.settings.server.database_url:
        return "Connect to a server first (keeping this computer's database) to publish and sync."
    if studio.settings.database.url:
        return "This studio works on the server's records directly: there is nothing to sync."
    return ""


def _sides(studio: Studio) -> Sides:
    return open_sides(studio.db, studio.paths, studio.settings, studio.secrets)


def list_server_workspaces(studio: Studio) -> list[tuple[uuid.UUID, str]]:
    sides = _sides(studio)
    try:
        return server_workspaces(sides.server)
    finally:
        sides.server.dispose()


def submit_sync(studio: Studio, workspace_id: uuid.UUID, mode: str) -> Job:
    """Queues the sync job after checking the server answers (a plain error now beats a
    failed job later)."""
    _sides(studio).server.dispose()
    return queue_sync(studio, workspace_id, mode)


def open_server_workspace(studio: Studio, workspace_id: uuid.UUID) -> Job:
    """Makes the server's workspace known here, then queues the sync that brings its records."""
    sides = _sides(studio)
    try:
        if workspace_id not in {i for i, _ in server_workspaces(sides.server)}:
            raise NotFound("The server no longer has that workspace.")
        WorkspaceSync(sides, workspace_id).open_row()
    finally:
        sides.server.dispose()
    return queue_sync(studio, workspace_id, "sync")


def _workspace(studio: Studio, workspace_id: uuid.UUID) -> Any:
    found = [w for w in studio.workspaces() if w.id == workspace_id]
    if not found:
        raise InvalidInput("The synced workspace is not on this computer.")
    return found[0]


def result_line(mode: str, job: JobSnapshot) -> str:
    if job.status is JobStatus.FAILED:
        return f"{mode.capitalize()} failed: {for_window(job.error).text}"
    if job.status is JobStatus.CANCELED:
        return f"{mode.capitalize()} was canceled."
    result: dict[str, Any] = job.result or {}
    line = (f"{mode.capitalize()} done: pushed {result.get('pushed', 0)}, pulled "
            f"{result.get('pulled', 0)}, removed {result.get('removed', 0)}, files uploaded "
            f"{result.get('uploaded', 0)}.")
    conflicts = len(result.get("conflicts", []))
    if conflicts:
        line += f" {conflicts} conflict{'s' if conflicts != 1 else ''} to resolve."
    return line


class SyncPanel(QGroupBox):
    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__("Publish and sync", parent)
        self.context = context
        self.job_id: uuid.UUID | None = None
        self.job_workspace: uuid.UUID | None = None
        self.mode = ""
        self.conflicts_dialog: QWidget | None = None
        self._build()
        self.follower = JobFollower(context.jobs, self)
        self.follower.job_changed.connect(self._on_job_changed)
        self.follower.job_finished.connect(self._on_job_finished)
        context.workspace_changed.connect(self._on_workspace_changed)
        self.update_enabled()

    def _build(self) -> None:
        self.publish_button = QPushButton("Publish this workspace", self)
        self.sync_button = QPushButton("Sync now", self)
        self.server_list = QComboBox(self)
        self.server_list.setPlaceholderText("Workspaces on the server")
        self.server_list.setMinimumContentsLength(18)
        self.refresh_button = QPushButton("List", self)
        self.open_button = QPushButton("Open", self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.publish_button.clicked.connect(lambda: self._run("publish"))
        self.sync_button.clicked.connect(lambda: self._run("sync"))
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_selected)
        self.server_list.currentIndexChanged.connect(lambda _: self.update_enabled())
        row = QHBoxLayout()
        row.addWidget(self.publish_button)
        row.addWidget(self.sync_button)
        row.addStretch(1)
        row.addWidget(self.server_list, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    def update_enabled(self) -> None:
        reason = sync_unavailable(self.context.studio)
        idle = self.job_id is None
        for button in (self.publish_button, self.sync_button, self.refresh_button):
            button.setEnabled(not reason and idle)
        self.open_button.setEnabled(not reason and idle and self.server_list.currentIndex() >= 0)
        if reason:
            self.status.setText(reason)

    def refresh(self) -> None:
        studio = self.context.studio
        self.mode = "listing"
        self.status.setText("Listing the server's workspaces…")
        run_in_background(lambda: list_server_workspaces(studio), receiver=self,
                          on_done=self._listed, on_error=self._failed, lane="io")

    def _listed(self, rows: list[tuple[uuid.UUID, str]]) -> None:
        self.server_list.clear()
        for workspace_id, name in rows:
            self.server_list.addItem(name, workspace_id)
        self.server_list.setCurrentIndex(0 if rows else -1)  # the placeholder keeps it at -1
        self.status.setText(f"The server has {len(rows)} workspace{'s' if len(rows) != 1 else ''}."
                            if rows else "The server has no workspaces yet: publish one.")
        self.update_enabled()

    def open_selected(self) -> None:
        workspace_id = self.server_list.currentData()
        if workspace_id is None:
            return
        studio, name = self.context.studio, self.server_list.currentText()
        self._started("open", f"Opening '{name}'…")
        run_in_background(lambda: open_server_workspace(studio, workspace_id), receiver=self,
                          on_done=self._queued, on_error=self._failed, lane="io")

    def _run(self, mode: str) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self._started(mode, "Publishing…" if mode == "publish" else "Syncing…")
        run_in_background(lambda: submit_sync(studio, workspace_id, mode), receiver=self,
                          on_done=self._queued, on_error=self._failed, lane="io")

    def _started(self, mode: str, text: str) -> None:
        self.mode = mode
        self.job_id = uuid.UUID(int=0)  # busy until the job is queued and done
        self.status.setText(text)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.update_enabled()

    def _queued(self, job: Job) -> None:
        self.job_id, self.job_workspace = job.id, job.workspace_id
        if job.workspace_id == self.context.workspace_id:
            self.follower.follow(job.id)
        else:  # an opened workspace: shown now, so the hub (and the user) see its sync
            self.switch_to(job.workspace_id)

    def _on_workspace_changed(self) -> None:
        if self.job_id is None or self.job_workspace is None:
            return
        if self.job_workspace == self.context.workspace_id:
            self.follower.follow(self.job_id)
            return
        self.job_id = None  # the user went elsewhere: the job goes on, shown on its Queue page
        self.progress.setVisible(False)
        self.status.setText(f"{self.mode.capitalize()} goes on in the background.")
        self.update_enabled()

    def _on_job_changed(self, job: JobSnapshot) -> None:
        if not job.finished:
            self.progress.setValue(round(job.progress * 100))
            waiting = "waiting for the worker" if job.status is JobStatus.PENDING else job.stage or "working"
            self.status.setText(f"{self.mode.capitalize()}: {waiting}…")

    def _on_job_finished(self, job: JobSnapshot) -> None:
        self.job_id = None
        self.progress.setVisible(False)
        self.status.setText(result_line(self.mode, job))
        self.update_enabled()
        if job.status is JobStatus.COMPLETED and (job.result or {}).get("conflicts"):
            self.show_conflicts(job.workspace_id)

    def switch_to(self, workspace_id: uuid.UUID) -> None:
        studio = self.context.studio
        run_in_background(lambda: WorkspaceRef.of(studio.use_workspace(
                              _workspace(studio, workspace_id).name)),
                          receiver=self, on_done=self.context.set_workspace, on_error=self._failed)

    def show_conflicts(self, workspace_id: uuid.UUID) -> None:
        if workspace_id == self.context.workspace_id:
            self._open_conflicts(self.context)
            return
        studio = self.context.studio  # an opened workspace: its own conflicts, looked up off the UI thread
        run_in_background(lambda: _workspace(studio, workspace_id), receiver=self,
                          on_done=lambda ws: self._open_conflicts(
                              StudioContext(studio, WorkspaceRef.of(ws), start=False)),
                          on_error=self._failed)

    def _open_conflicts(self, context: StudioContext) -> None:
        from studio.ui.widgets.sync_conflicts import SyncConflictsDialog
        self.conflicts_dialog = SyncConflictsDialog(context, self)
        self.conflicts_dialog.open()

    def _failed(self, exc: BaseException) -> None:
        self.job_id = None
        self.progress.setVisible(False)
        self.status.setText(f"{self.mode.capitalize()} failed: {one_line(exc)}")
        self.update_enabled()
