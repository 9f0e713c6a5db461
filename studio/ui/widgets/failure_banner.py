"""A failed job, where the user is: its reason in one red line, Retry, the button that helps
("Raise budget…", "Open Settings…", "Show log") and a close button.

    banner = FailureBanner(self, hub=context.jobs)
    banner.retried.connect(self._on_retried)   # list[uuid.UUID]: queued again; follow them
    banner.show_jobs([snapshot])               # shown when one of them failed

Retry goes through the engine's own retry (``JobService.retry``) on a background lane; the
banner hides once the jobs are queued again, or says in its line why they could not be.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.error_actions import WindowMessage, for_window, perform
from studio.ui.errors import one_line
from studio.ui.job_hub import JobHub
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import tone


def failure_text(job: JobSnapshot) -> str:
    """The engine's reason for a failed job, or a plain line when it left none."""
    reason = (job.error or job.message).strip()
    if not reason:
        return f"The job “{job.title}” failed without saying why. Details are in the log folder."
    return reason.splitlines()[0]


class FailureBanner(QFrame):
    retried = Signal(list)  # list[uuid.UUID]: the jobs queued again

    def __init__(self, parent: QWidget | None = None, *, hub: JobHub | None = None,
                 stacked: bool = False) -> None:
        """``stacked`` puts the buttons under the line, for narrow columns."""
        super().__init__(parent)
        self.setObjectName("failure-banner")
        self.hub = hub
        self.job_ids: list[uuid.UUID] = []
        self.message = WindowMessage("")
        self.reason = QLabel(self)
        self.reason.setObjectName("failure-reason")
        self.reason.setWordWrap(True)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.clicked.connect(self.retry)
        self.action_button = QPushButton(self)
        self.action_button.clicked.connect(lambda: perform(self.message, self))
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self.hide)
        self._lay_out(stacked)
        self.hide()

    def _lay_out(self, stacked: bool) -> None:
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        buttons = QHBoxLayout() if stacked else row
        if stacked:
            buttons.addStretch(1)
        for button in (self.action_button, self.retry_button):
            buttons.addWidget(button)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop if stacked else Qt.AlignmentFlag.AlignVCenter)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 4, 4)
        column.addLayout(row)
        if stacked:
            column.addLayout(buttons)

    def attach(self, hub: JobHub) -> None:
        """For views made before the hub is at hand: Retry needs it."""
        self.hub = hub

    def show_jobs(self, jobs: Sequence[JobSnapshot]) -> None:
        """Shows the first failed job's reason (with a count when more failed); hides otherwise."""
        failed = [job for job in jobs if job.status is JobStatus.FAILED]
        if not failed:
            self.hide()
            return
        message = for_window(failure_text(failed[0]))
        if len(failed) > 1:
            message = WindowMessage(f"{len(failed)} jobs failed. {message.text}", message.action,
                                    message.settings_group)
        self.show_message(message, [job.id for job in failed])

    def show_message(self, message: WindowMessage, job_ids: Sequence[uuid.UUID] = ()) -> None:
        """A failure in the window's words; Retry is offered for the jobs given."""
        self.message = message
        self.job_ids = list(job_ids)
        self.reason.setText(message.text)
        self.reason.setToolTip(message.text)
        red = tone("error", self.palette())  # the theme's error colour, readable on either palette
        self.reason.setStyleSheet(f"color: {red}; font-weight: bold;")
        self.setStyleSheet(f"#failure-banner {{ border: 1px solid {red}; border-radius: 4px; }}")
        self.action_button.setVisible(message.action is not None)
        self.action_button.setText(message.action.value if message.action is not None else "")
        self.retry_button.setVisible(bool(self.job_ids))
        self.retry_button.setEnabled(self.hub is not None)
        self.show()

    def retry(self) -> None:
        hub, job_ids = self.hub, list(self.job_ids)
        if hub is None or not job_ids:
            return
        studio = hub.studio
        workspace_id = next((s.workspace_id for s in map(hub.snapshot, job_ids) if s is not None), None)
        if workspace_id is None:
            return
        self.retry_button.setEnabled(False)
        run_in_background(lambda: [JobSnapshot.of(studio.jobs.retry(workspace_id, j)) for j in job_ids],
                          receiver=self, on_done=self._on_retried, on_error=self._on_retry_failed)

    def _on_retried(self, snapshots: list[JobSnapshot]) -> None:
        self.retry_button.setEnabled(True)
        self.hide()
        if self.hub is not None:
            self.hub.note(snapshots)  # every view sees them waiting again now, not their failure
        self.retried.emit([s.id for s in snapshots])

    def _on_retry_failed(self, exc: BaseException) -> None:
        self.retry_button.setEnabled(True)
        self.reason.setText(f"Retry did not start: {one_line(exc)}")
