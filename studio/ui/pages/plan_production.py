"""The chosen post's production, kept current by the job hub and the live state.

The pipeline's shape (its steps and their jobs) is read from the engine when the post is chosen,
when the post changes (a step was queued, the run ended) and when its run-pipeline job changes
state; the steps' progress, state and errors come from the hub's snapshots of the step jobs as
they arrive, without a read of their own.
"""
from __future__ import annotations

import uuid

from PySide6.QtCore import QObject, Signal

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import PlanItem
from studio.engine.errors import StudioError
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.pipelines.service import JOB_TYPE, PipelineStatus, pipeline_status
from studio.ui.context import StudioContext
from studio.ui.errors import one_line, show_error
from studio.ui.tasks import run_in_background
from studio.ui.widgets.plan_pipeline import PipelinePanel


class Production(QObject):
    loaded = Signal(object)  # PipelineStatus, read from the engine
    run_ended = Signal(str)  # the panel's state line, when a run stopped

    def __init__(self, context: StudioContext, panel: PipelinePanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.panel = panel
        self._item_id: uuid.UUID | None = None
        self._parent_status: JobStatus | None = None
        self._runs: set[uuid.UUID] = set()  # run-pipeline jobs already heard of
        self._reading = False
        self._again = False
        context.jobs.jobs_changed.connect(self._on_jobs_changed)
        context.live.changed.connect(self._on_changed)

    def show_item(self, item: PlanItem | None) -> None:
        same = item is not None and item.id == self._item_id
        self.panel.show_item(item)
        self._item_id = item.id if item is not None else None
        if not same:
            self._parent_status = None
            self.reload()

    def reload(self) -> None:
        """Reads the pipeline's shape; one read at a time, the last request always served."""
        if self._item_id is None:
            return
        if self._reading:
            self._again = True
            return
        self._reading = True
        studio, workspace_id, item_id = self.context.studio, self.context.workspace_id, self._item_id
        run_in_background(lambda: pipeline_status(studio, workspace_id, item_id), receiver=self,
                          on_done=lambda status: self._on_read(item_id, status),
                          on_error=self._on_read_failed)

    def _on_read(self, item_id: uuid.UUID, status: PipelineStatus) -> None:
        self._reading = False
        if self._again or item_id != self._item_id:
            self._again = False
            self.reload()  # another post was chosen, or it changed again meanwhile
            return
        before = self.panel.status.state if self.panel.status is not None else None
        self.panel.show_status(status)
        if status.job_id is not None:
            self.panel.show_jobs(self.context.jobs.steps_of(status.job_id))
            parent = self.context.jobs.snapshot(status.job_id)
            self._parent_status = parent.status if parent is not None else self._parent_status
        self.loaded.emit(self.panel.status)
        if before == "running" and status.state != "running":
            self.run_ended.emit(self.panel.state.text())

    def _on_read_failed(self, exc: BaseException) -> None:
        self._reading = False
        self._again = False
        if not isinstance(exc, StudioError):
            show_error(self.panel, exc)
        self.panel.state.setText(one_line(exc))

    def _on_changed(self, changes: ChangeSet) -> None:
        if self._item_id is None or not changes.touches(Entity.PLAN_ITEM,
                                                        workspace_id=self.context.workspace_id):
            return
        ids = changes.ids(Entity.PLAN_ITEM)
        if not ids or self._item_id in ids:
            self.reload()

    def _on_jobs_changed(self, snapshots: list[JobSnapshot]) -> None:
        if self._item_id is None:
            return
        status = self.panel.status
        parent_id = status.job_id if status is not None else None
        if parent_id is not None and any(s.parent_id == parent_id for s in snapshots):
            self.panel.show_jobs(self.context.jobs.steps_of(parent_id))
        parent = next((s for s in snapshots if s.id == parent_id), None) if parent_id else None
        turned = parent is not None and parent.status != self._parent_status
        if parent is not None:
            self._parent_status = parent.status
        new_runs = {s.id for s in snapshots if s.type == JOB_TYPE} - self._runs
        self._runs |= new_runs
        # A run started, ended or failed, or a new run began (perhaps of this post, from here,
        # the CLI or a schedule): the pipeline's shape and the post's state are read again.
        if turned or new_runs - {parent_id}:
            self.reload()
