"""What every page shares: the studio and the workspace it currently shows."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from studio.engine.core import Studio
from studio.engine.db.models import Workspace


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    id: uuid.UUID
    name: str

    @classmethod
    def of(cls, workspace: Workspace) -> WorkspaceRef:
        return cls(id=workspace.id, name=workspace.name)


class StudioContext(QObject):
    workspace_changed = Signal()

    def __init__(self, studio: Studio, workspace: WorkspaceRef, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.workspace = workspace

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.workspace.id

    def set_workspace(self, workspace: WorkspaceRef) -> None:
        if workspace != self.workspace:
            self.workspace = workspace
            self.workspace_changed.emit()
