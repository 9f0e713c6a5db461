"""What every page shares: the studio, the workspace it shows, and the live state of both.

``live`` (a ``LiveState``) reports every change to the studio's data, from this process or any
other; ``jobs`` (the ``JobHub``) keeps the current workspace's jobs. Pages listen to these two
and own no polling timer of their own. ``ui_state`` remembers what the user last had open
(``remember``/``recall``, see ``studio.ui.ui_state``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.engine.core import Studio
from studio.engine.db.models import Workspace
from studio.ui.job_hub import JobHub
from studio.ui.live import LiveState
from studio.ui.ui_state import STATE_FILE, UiState


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    id: uuid.UUID
    name: str

    @classmethod
    def of(cls, workspace: Workspace) -> WorkspaceRef:
        return cls(id=workspace.id, name=workspace.name)


class StudioContext(QObject):
    workspace_changed = Signal()

    def __init__(self, studio: Studio, workspace: WorkspaceRef, parent: QObject | None = None,
                 *, start: bool = True) -> None:
        super().__init__(parent)
        self.studio = studio
        self.workspace = workspace
        self.live = LiveState(studio, self)
        self.ui_state = UiState(studio.paths.data_dir / STATE_FILE, self)
        self.jobs = JobHub(studio, lambda: self.workspace.id, self)
        self.live.changed.connect(self.jobs.on_changes)
        self.workspace_changed.connect(self.jobs.on_workspace_changed)
        if start:
            self.start()

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.workspace.id

    def start(self) -> None:
        self.live.start()
        self.jobs.start()

    def stop(self) -> None:
        """The app is closing (or a test ends): nothing is read any more."""
        self.live.stop()
        self.jobs.stop()
        self.ui_state.flush()

    def remember(self, key: str, value: Any) -> None:
        """What the user last had open, kept per data folder (``None`` forgets it)."""
        self.ui_state.remember(key, value)

    def recall(self, key: str, default: Any = None) -> Any:
        return self.ui_state.recall(key, default)

    def set_workspace(self, workspace: WorkspaceRef) -> None:
        if workspace != self.workspace:
            self.workspace = workspace
            self.workspace_changed.emit()
