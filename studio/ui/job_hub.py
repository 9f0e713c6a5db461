"""The one place in the app that watches jobs; every view that shows jobs listens to it.

    context.jobs.jobs_changed.connect(self._on_jobs_changed)   # list[JobSnapshot]
    context.jobs.job_finished.connect(self._on_job_finished)   # JobSnapshot
    context.jobs.snapshot(job_id)                              # the latest copy, or None

The hub reads the current workspace's changed job rows on the "live" lane a few times a second
(at once when this process wrote a job) and reports the new and changed ones as typed snapshots.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from studio.engine.core import Studio
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.jobs.snapshot import JobCursor, JobSnapshot, changed_jobs
from studio.ui.tasks import run_in_background
from studio.ui.timers import repeating_timer

POLL_MS = 300
TIMER_NAME = "job-hub"


class JobHub(QObject):
    jobs_changed = Signal(list)  # list[JobSnapshot]: new or changed, newest first
    job_finished = Signal(object)  # JobSnapshot: it finished while the app was watching
    reset = Signal()  # another workspace is shown: every snapshot was replaced

    def __init__(self, studio: Studio, workspace_id: Callable[[], uuid.UUID],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self._workspace_id = workspace_id
        self._jobs: dict[uuid.UUID, JobSnapshot] = {}
        self._cursor = JobCursor()
        self._loaded = False  # the first read of a workspace finishes nothing
        self._generation = 0  # reads for an earlier workspace are dropped
        self._busy = False
        self._again = False
        self._timer = repeating_timer(self, name=TIMER_NAME, interval_ms=POLL_MS)
        self._timer.timeout.connect(self.refresh)

    # Reading --------------------------------------------------------------------------------

    def start(self) -> None:
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def loaded(self) -> bool:
        return self._loaded

    def snapshot(self, job_id: uuid.UUID) -> JobSnapshot | None:
        return self._jobs.get(job_id)

    def snapshots(self) -> list[JobSnapshot]:
        return sorted(self._jobs.values(), key=lambda s: s.created_at, reverse=True)

    def steps_of(self, parent_id: uuid.UUID) -> list[JobSnapshot]:
        """A pipeline's step jobs."""
        return [s for s in self._jobs.values() if s.parent_id == parent_id]

    def refresh(self) -> None:
        """Reads changed jobs now (once the read in flight is back)."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        db, workspace_id, cursor = self.studio.db, self._workspace_id(), self._cursor
        generation = self._generation
        run_in_background(lambda: changed_jobs(db, workspace_id, cursor), receiver=self,
                          lane="live", on_done=lambda found: self._on_read(generation, found),
                          on_error=self._on_read_failed)

    def on_changes(self, changes: ChangeSet) -> None:
        """This process wrote a job (submitted, canceled): read at once instead of at the tick."""
        if changes.touches(Entity.JOB):
            self.refresh()

    def note(self, snapshots: Iterable[JobSnapshot]) -> None:
        """Rows this process just wrote (a retry): reported at once, not left stale until the next read."""
        self._merge(snapshots)

    def on_workspace_changed(self) -> None:
        self._generation += 1
        self._jobs.clear()
        self._cursor = JobCursor()
        self._loaded = False
        self.reset.emit()
        self.refresh()

    # Reporting ------------------------------------------------------------------------------

    def _on_read(self, generation: int, found: tuple[list[JobSnapshot], JobCursor]) -> None:
        self._busy = False
        if generation == self._generation:
            snapshots, self._cursor = found
            self._merge(snapshots)
        if self._again:
            self._again = False
            self.refresh()

    def _on_read_failed(self, exc: BaseException) -> None:
        self._busy = False  # the database is away for a moment; the next tick tries again

    def _merge(self, snapshots: Iterable[JobSnapshot]) -> None:
        changed, finished = [], []
        for snapshot in snapshots:
            before = self._jobs.get(snapshot.id)
            if before is not None and (before.version, before.updated_at) >= (snapshot.version, snapshot.updated_at):
                continue  # read again within the overlap, or older than what is shown
            self._jobs[snapshot.id] = snapshot
            changed.append(snapshot)
            if snapshot.finished and self._loaded and (before is None or not before.finished):
                finished.append(snapshot)
        self._loaded = True
        if changed:
            self.jobs_changed.emit(sorted(changed, key=lambda s: s.created_at, reverse=True))
        for snapshot in finished:
            self.job_finished.emit(snapshot)
