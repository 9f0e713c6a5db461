"""The chosen influencer's daily schedule on the Plans page: at a set hour the worker plans
tomorrow's posts, for approval or approved at once, so they are made ahead and posted at their time.

A compact form (on/off, time, posts per day, platforms, auto-approve) with Save and Remove, and
a line saying what the last run did (a plan refused for the budget says so). It follows the
page's influencer box; reads and writes run off the UI thread, and a new plan or a finished plan
job (a slot that ran, here or in a worker) reads the schedule again.
"""
from __future__ import annotations

import uuid

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.pipelines.daily_plans import (
    ScheduleChange,
    ScheduleView,
    remove_schedule,
    schedule_view,
    set_schedule,
)
from studio.engine.plans.service import GENERATE_JOB, MAX_PER_DAY
from studio.ui.context import StudioContext
from studio.ui.errors import show_error
from studio.ui.tasks import run_in_background
from studio.ui.theme_style import show_in_tone
from studio.ui.timers import single_shot_timer

PLATFORM_LABELS = {"instagram": "Instagram", "tiktok": "TikTok", "youtube-shorts": "YouTube"}


class ScheduleEditor(QGroupBox):
    schedule_loaded = Signal(object)  # ScheduleView | None

    def __init__(self, context: StudioContext, influencer: QComboBox, parent: QWidget | None = None) -> None:
        super().__init__("Daily schedule", parent)
        self.context = context
        self.influencer = influencer  # the page's box; its data is the influencer's id
        self.view: ScheduleView | None = None
        self._build()
        # The page fills its box with the box's signals blocked; its model still says so.
        self._soon = single_shot_timer(self, interval_ms=0)
        self._soon.timeout.connect(self.reload)
        influencer.model().rowsInserted.connect(self._soon.start)
        influencer.model().modelReset.connect(self._soon.start)
        influencer.currentIndexChanged.connect(self.reload)
        context.workspace_changed.connect(self.reload)
        context.live.changed.connect(self._on_changed)
        context.jobs.job_finished.connect(self._on_job_finished)
        self.reload()

    def _build(self) -> None:
        self.enabled_box = QCheckBox("Plan daily at", self)
        self.enabled_box.setToolTip("Every day at this time the worker plans tomorrow's posts for this "
                                    "influencer, within the monthly LLM budget")
        self.at = QTimeEdit(QTime(9, 0), self)
        self.at.setDisplayFormat("HH:mm")
        self.posts = QSpinBox(self)
        self.posts.setRange(1, MAX_PER_DAY)
        self.posts.setToolTip("Posts planned for each day")
        self.platforms = {name: QCheckBox(label, self) for name, label in PLATFORM_LABELS.items()}
        self.auto_approve = QCheckBox("Approve at once", self)
        self.auto_approve.setToolTip("Planned posts are approved without a look, so they are made "
                                     "ahead and posted at their time; off, they wait on this page")
        self.last_run = QLabel(self)
        self.last_run.setObjectName("schedule-last-run")
        self.last_run.setWordWrap(True)
        self.save_button = QPushButton("Save schedule", self)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        layout = QVBoxLayout(self)
        layout.addLayout(_row(self.enabled_box, self.at, QLabel("Posts", self), self.posts))
        layout.addLayout(_row(*self.platforms.values()))
        layout.addWidget(self.auto_approve)
        layout.addWidget(self.last_run)
        layout.addLayout(_row(self.save_button, self.remove_button))

    def influencer_id(self) -> uuid.UUID | None:
        data = self.influencer.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def reload(self) -> None:
        influencer_id = self.influencer_id()
        self.setEnabled(influencer_id is not None)
        if influencer_id is None:
            self._show(None)
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: schedule_view(studio, workspace_id, influencer_id), receiver=self,
                          on_done=lambda view: self._on_loaded(influencer_id, view),
                          on_error=lambda exc: show_error(self, exc))

    def change(self) -> ScheduleChange:
        """What the form says, as set_schedule takes it."""
        return ScheduleChange(at=self.at.time().toString("HH:mm"), posts_per_day=self.posts.value(),
                              platforms=[n for n, box in self.platforms.items() if box.isChecked()],
                              auto_approve=self.auto_approve.isChecked(),
                              enabled=self.enabled_box.isChecked())

    def _on_loaded(self, influencer_id: uuid.UUID, view: ScheduleView | None) -> None:
        if influencer_id != self.influencer_id():
            return  # another influencer was chosen meanwhile; its own read follows
        self._show(view)
        self.schedule_loaded.emit(view)

    def _show(self, view: ScheduleView | None) -> None:
        self.view = view
        hour, minute = (int(p) for p in (view.at if view else "09:00").split(":"))
        self.at.setTime(QTime(hour, minute))
        self.posts.setValue(view.posts_per_day if view else 1)
        chosen = view.platforms if view else ("instagram",)
        for name, box in self.platforms.items():
            box.setChecked(name in chosen)
        self.auto_approve.setChecked(bool(view and view.auto_approve))
        self.enabled_box.setChecked(bool(view and view.enabled))
        self.remove_button.setEnabled(view is not None)
        self.last_run.setText(_last_run_text(view))
        failed = view is not None and view.last_job is not None and view.last_job.status == JobStatus.FAILED
        show_in_tone(self.last_run, "error" if failed else "")

    def _on_save_clicked(self) -> None:
        influencer_id, change = self.influencer_id(), self.change()
        if influencer_id is None:
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: set_schedule(studio, workspace_id, influencer_id, change), receiver=self,
                          on_done=lambda _made: self.reload(), on_error=lambda exc: show_error(self, exc))

    def _on_remove_clicked(self) -> None:
        influencer_id = self.influencer_id()
        if influencer_id is None or self.view is None:
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: remove_schedule(studio, workspace_id, influencer_id), receiver=self,
                          on_done=lambda _none: self.reload(), on_error=lambda exc: show_error(self, exc))

    def _on_changed(self, changes: ChangeSet) -> None:
        """A slot that ran writes a plan; the influencer may have gone to the trash; another window
        or `plan schedule set` may have changed the schedule."""
        if changes.touches(Entity.PLAN, Entity.INFLUENCER, Entity.SCHEDULE,
                           workspace_id=self.context.workspace_id):
            self.reload()

    def _on_job_finished(self, snapshot: JobSnapshot) -> None:
        """A plan job ended: perhaps this schedule's (a budget refusal writes no plan)."""
        if snapshot.type == GENERATE_JOB:
            self.reload()


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    row.addStretch(1)
    return row


def _last_run_text(view: ScheduleView | None) -> str:
    if view is None:
        return "No daily schedule: plans are made when you ask for them."
    return f"Last run: {view.last_run}"
