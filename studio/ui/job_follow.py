"""Following a few jobs a view submitted, through the app's one job hub.

A page that starts jobs (a plan, a picture, an export) says which ones it follows and hears
about those only; the hub does the reading:

    self.follower = JobFollower(context.jobs, self)
    self.follower.job_changed.connect(self._on_job_changed)    # JobSnapshot, while it runs
    self.follower.job_finished.connect(self._on_job_finished)  # JobSnapshot, once; then forgotten
    self.follower.follow(job.id)

``WaitingReasons`` says why a job a view shows still waits in its queue (no worker serves it,
jobs ahead): read on a background lane whenever the hub reports changed jobs.
"""
from __future__ import annotations

import uuid

from PySide6.QtCore import QObject, Signal

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.worker.waiting import waiting_reason
from studio.ui.job_hub import JobHub
from studio.ui.tasks import run_in_background


class JobFollower(QObject):
    job_changed = Signal(object)  # JobSnapshot of a followed job
    job_finished = Signal(object)  # JobSnapshot: a followed job finished; it is no longer followed

    def __init__(self, hub: JobHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self._ids: list[uuid.UUID] = []
        hub.jobs_changed.connect(self._on_jobs_changed)
        hub.reset.connect(self.clear)  # another workspace: its jobs are not ours

    @property
    def ids(self) -> list[uuid.UUID]:
        """The followed jobs, oldest first."""
        return list(self._ids)

    @property
    def job_id(self) -> uuid.UUID | None:
        """The job followed last, for views that follow one at a time."""
        return self._ids[-1] if self._ids else None

    def follow(self, job_id: uuid.UUID) -> None:
        if job_id not in self._ids:
            self._ids.append(job_id)
        known = self.hub.snapshot(job_id)
        if known is not None:
            self._report(known)  # the hub read it before the view asked
        else:
            self.hub.refresh()

    def forget(self, job_id: uuid.UUID) -> None:
        if job_id in self._ids:
            self._ids.remove(job_id)

    def clear(self) -> None:
        self._ids.clear()

    def _on_jobs_changed(self, snapshots: list[JobSnapshot]) -> None:
        for snapshot in reversed(snapshots):  # oldest first, as they were submitted
            if snapshot.id in self._ids:
                self._report(snapshot)

    def _report(self, snapshot: JobSnapshot) -> None:
        if snapshot.finished:
            self.forget(snapshot.id)
            self.job_changed.emit(snapshot)
            self.job_finished.emit(snapshot)
        else:
            self.job_changed.emit(snapshot)


class WaitingReasons(QObject):
    """Why the job a view explains waits; ``found`` gives "" once it no longer waits."""
    found = Signal(object, str)  # job id, the reason in one sentence

    def __init__(self, hub: JobHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.job_id: uuid.UUID | None = None
        self._busy = False
        self._again = False
        # Bound methods, not lambdas: Qt drops them with this object, while the hub lives on.
        hub.jobs_changed.connect(self._on_jobs_changed)  # a job ahead ended, a worker took one
        hub.reset.connect(self._on_reset)

    def explain(self, job_id: uuid.UUID | None) -> None:
        """The job to explain from now on (None: none)."""
        if job_id != self.job_id:
            self.job_id = job_id
            self._ask()

    def _on_jobs_changed(self, _changed: list[JobSnapshot]) -> None:
        self._ask()

    def _on_reset(self) -> None:
        self.explain(None)

    def _ask(self) -> None:
        job_id = self.job_id
        if job_id is None:
            return
        known = self.hub.snapshot(job_id)
        if known is not None and known.status is not JobStatus.PENDING:
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        studio = self.hub.studio
        run_in_background(lambda: waiting_reason(studio, job_id), receiver=self,
                          on_done=lambda reason: self._on_found(job_id, reason),
                          on_error=lambda exc: self._on_found(job_id, ""))

    def _on_found(self, job_id: uuid.UUID, reason: str) -> None:
        self._busy = False
        if job_id == self.job_id:
            self.found.emit(job_id, reason)
        if self._again:
            self._again = False
            self._ask()
