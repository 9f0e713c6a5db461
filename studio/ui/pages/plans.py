"""Content plans: generate one for an influencer, review its posts, edit, approve, regenerate.

Posts are shown in a week or month calendar (coloured by status, dragged to move them to
another day) and as a list of the chosen plan; either selects the post in the item editor.
"Generate plan…" opens a dialog that shows the estimated cost first. Under the editor, an
approved post's pipeline is started and followed (plan_production.Production, on the job hub).

The page is thin: every engine call (plans.service, the budget, the pipeline) runs through
run_in_background, and plan jobs are followed through the app's job hub. Plans, posts and the
budget are read again whenever the live state reports a change to them, from this window or
any other process; an open editor keeps what the user typed and says so when its post changed.
The budget line at the top turns amber at 80 % and red when paid calls are refused.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import PlanItem
from studio.engine.errors import StudioError
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.llm.budget import BudgetStatus
from studio.engine.pipelines.service import submit_pipeline
from studio.engine.plans import service
from studio.engine.plans.calendar import CalendarRow, items_between, moved_to
from studio.ui.context import StudioContext
from studio.ui.errors import one_line, show_error
from studio.ui.job_follow import JobFollower
from studio.ui.pages import plans_ops as ops
from studio.ui.pages.plan_job_banner import plan_job_banner
from studio.ui.pages.plan_production import Production
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.plan_calendar import PlanCalendar
from studio.ui.widgets.plan_form import PlanOrder
from studio.ui.widgets.plan_generate_dialog import GeneratePlanDialog
from studio.ui.widgets.plan_item_editor import ItemEdit, PlanItemEditor
from studio.ui.widgets.plan_items import PlanItemsTable, PlanList
from studio.ui.widgets.plan_pipeline import PipelinePanel
from studio.ui.widgets.schedule_editor import ScheduleEditor
from studio.ui.widgets.spend_dialog import SpendDialog, open_spend_dialog

NO_INFLUENCER = "Create an influencer first; plans are written in their persona."


class PlansPage(QWidget):
    plans_loaded = Signal()
    items_loaded = Signal()
    calendar_loaded = Signal()
    pipeline_loaded = Signal(object)  # PipelineStatus
    job_finished = Signal(object)  # JobSnapshot of a plan job this page started

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._summaries: list[service.PlanSummary] = []
        self._select_plan: str | None = None
        self._select_item: uuid.UUID | None = None
        self._jump_to_plan: str | None = None  # a new plan: the calendar turns to its first post
        self.follower = JobFollower(context.jobs, self)
        self.follower.job_changed.connect(self._on_job_changed)
        self.follower.job_finished.connect(self._on_job_finished)
        self._build()
        self.banner = plan_job_banner(self)
        self.production = Production(context, self.pipeline, self)
        self.production.loaded.connect(self.pipeline_loaded)
        self.production.run_ended.connect(self.message.setText)
        self.context.workspace_changed.connect(self.refresh)
        self.context.live.changed.connect(self._on_changed)
        self.refresh()

    def _build(self) -> None:
        top = self._build_top()
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.hide()
        self.plans = PlanList(self)
        self.plans.currentItemChanged.connect(self._on_plan_selected)
        self.table = PlanItemsTable(self)
        self.table.itemSelectionChanged.connect(self._on_item_selected)
        self.calendar = PlanCalendar(self)
        self.calendar.grid.set_thumbnails(ThumbnailCache(self.context.studio.paths.cache_dir, parent=self))
        self.calendar.range_changed.connect(self._load_calendar)
        self.calendar.item_selected.connect(self._on_calendar_selected)
        self.calendar.item_moved.connect(self._on_item_moved)
        self.views = QTabWidget(self)
        self.views.addTab(self.calendar, "Calendar")
        self.views.addTab(self.table, "Posts of the plan")
        splitter = QSplitter(self)
        for widget in (self.plans, self.views, self._build_side()):
            splitter.addWidget(widget)
        for index, stretch in enumerate((0, 1, 0)):  # a wider window widens the calendar
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([150, 700, 340])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(splitter, 1)

    def _build_top(self) -> QHBoxLayout:
        """Influencer, Generate plan…, the budget line and Spending…"""
        self.influencer = QComboBox(self)
        self.influencer.setMinimumWidth(180)
        self.influencer.currentIndexChanged.connect(self._on_influencer_changed)
        self.budget = QLabel(self)
        self.budget.setObjectName("plans-budget")
        self.budget.setWordWrap(True)  # a long warning must not widen the window
        top = QHBoxLayout()
        top.addWidget(QLabel("Influencer", self))
        top.addWidget(self.influencer)
        self.generate_button = QPushButton("Generate plan…", self)
        self.generate_button.setToolTip("Plan posts for this influencer; the cost is shown first")
        self.generate_button.clicked.connect(self.open_generate)
        top.addWidget(self.generate_button)
        top.addStretch(1)
        top.addWidget(self.budget)
        self.spend_button = QPushButton("Spending…", self)
        self.spend_button.setToolTip("Cost per day, model and influencer; the monthly budget")
        self.spend_button.clicked.connect(self.open_spending)
        top.addWidget(self.spend_button)
        self.generate_dialog: GeneratePlanDialog | None = None
        return top

    def _build_side(self) -> QScrollArea:
        """The post's editor and, under it, its production."""
        self.editor = PlanItemEditor(self)
        self.editor.save_requested.connect(self._on_save_requested)
        self.editor.approve_requested.connect(self._on_approve_requested)
        self.editor.regenerate_requested.connect(self._on_regenerate_requested)
        self.pipeline = PipelinePanel(self, context=self.context)  # with the post's publishing
        self.pipeline.run_requested.connect(self._on_run_requested)
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.editor)
        side_layout.addWidget(self.pipeline)
        side_layout.addWidget(ScheduleEditor(self.context, self.influencer, side))
        side_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        return scroll

    # Loading ---------------------------------------------------------------------------------

    def _on_changed(self, changes: ChangeSet) -> None:
        """Plans, posts, people or spending changed here or anywhere else: read them again."""
        if changes.touches(Entity.PLAN, Entity.PLAN_ITEM, Entity.INFLUENCER, Entity.SPEND,
                           Entity.WORKSPACE, workspace_id=self.context.workspace_id):
            self.refresh()

    def refresh(self) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: ops.overview(studio, workspace_id), receiver=self,
                          on_done=self._on_loaded, on_error=lambda exc: show_error(self, exc))

    def _on_loaded(self, overview: ops.Overview) -> None:
        chosen = self.influencer.currentData()
        self.influencer.blockSignals(True)
        self.influencer.clear()
        for person in overview.influencers:
            self.influencer.addItem(person.name, person.id)
        self.influencer.setCurrentIndex(max(self._influencer_index(chosen), 0))
        self.influencer.blockSignals(False)
        self.generate_button.setEnabled(bool(overview.influencers))
        if not overview.influencers:
            self.message.setText(NO_INFLUENCER)
        elif self.message.text() == NO_INFLUENCER:
            self.message.setText("")
        self._summaries = overview.plans
        self._show_budget(overview.budget)
        self._fill_plans()
        self._load_calendar()
        self.plans_loaded.emit()

    def _show_budget(self, status: BudgetStatus) -> None:
        self.budget.setText(status.line)
        self.budget.setToolTip(status.line)
        self.budget.setStyleSheet(ops.budget_style(status))

    def _fill_plans(self) -> None:
        wanted = self._select_plan or self.plans.current_plan_id()
        self._select_plan = None
        person = self.influencer.currentData()
        self.plans.set_plans([s for s in self._summaries if s.plan.influencer_id == person], wanted)
        self._on_plan_selected()

    def _influencer_index(self, person_id: uuid.UUID | None) -> int:
        # findData compares wrapped Python objects by identity, not by value: look ourselves.
        return next((i for i in range(self.influencer.count())
                     if self.influencer.itemData(i) == person_id), -1)

    def _on_influencer_changed(self) -> None:
        self._fill_plans()
        if not self.calendar.all_influencers.isChecked():
            self._load_calendar()

    def _load_calendar(self) -> None:
        shown = self.calendar.range
        person = None if self.calendar.all_influencers.isChecked() else self.influencer.currentData()
        if person is None and not self.calendar.all_influencers.isChecked():
            self.calendar.set_rows([])
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id

        def on_done(rows: list[CalendarRow]) -> None:
            if shown == self.calendar.range:  # the user may have stepped on meanwhile
                self.calendar.set_rows(rows)
                self.calendar_loaded.emit()

        run_in_background(lambda: items_between(studio, workspace_id, shown.first, shown.last, person),
                          receiver=self, on_done=on_done, on_error=lambda exc: show_error(self, exc))

    def _on_plan_selected(self, *_: Any) -> None:
        plan_id = self.plans.current_plan_id()
        if plan_id is None:
            self._show_items([])
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: service.list_items(studio, workspace_id, uuid.UUID(plan_id)),
                          receiver=self, on_done=self._show_items,
                          on_error=lambda exc: show_error(self, exc))

    @property
    def items(self) -> list[PlanItem]:
        return self.table.posts

    def _show_items(self, items: Sequence[PlanItem]) -> None:
        wanted = self._select_item or (self.editor.item.id if self.editor.item else None)
        self._select_item = None
        if items and self._jump_to_plan == self.plans.current_plan_id():
            self._jump_to_plan = None
            self.calendar.show_day(min(i.scheduled_at for i in items).astimezone().date())
        self.table.set_items(items, wanted)
        self._on_item_selected()
        self.items_loaded.emit()

    def _on_item_selected(self) -> None:
        item = self.table.selected_item()
        self.editor.show_item(item)
        self.production.show_item(item)
        self.calendar.grid.select(item.id if item else None)
        if item is not None and self.views.currentWidget() is self.table:
            # Picked from the list: the calendar turns to it (not on reloads, which would undo
            # the user's own stepping through the calendar).
            self.calendar.show_day(item.scheduled_at.astimezone().date())

    def _on_calendar_selected(self, item_id: uuid.UUID) -> None:
        """The post goes into the editor through its plan's list, so both always agree."""
        row = next((r for r in self.calendar.grid.rows if r.item.id == item_id), None)
        if row is None:
            return
        if self.table.select_item(item_id):
            return
        self._select_item = item_id
        self._select_plan = str(row.item.plan_id)
        if self.influencer.currentData() != row.influencer_id:
            self.influencer.setCurrentIndex(self._influencer_index(row.influencer_id))
        else:
            self._fill_plans()

    def _on_item_moved(self, item_id: uuid.UUID, day: date) -> None:
        row = next((r for r in self.calendar.grid.rows if r.item.id == item_id), None)
        if row is None:
            return
        when = moved_to(row.item.scheduled_at, day)
        studio, workspace_id, version = self.context.studio, self.context.workspace_id, row.item.version

        def on_done(_: object) -> None:
            self.message.setText(f"Moved to {when.astimezone():%a %d %b %H:%M}.")

        run_in_background(lambda: service.edit_item(studio, workspace_id, item_id,
                                                    {"scheduled_at": when},
                                                    expected_version=version),
                          receiver=self, on_done=on_done, on_error=self._on_move_failed)

    def _on_move_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, StudioError):
            show_error(self, exc)
        self.message.setText(one_line(exc))
        self.refresh()  # the post goes back to where it is stored

    # Actions ---------------------------------------------------------------------------------

    def open_spending(self) -> SpendDialog:
        return open_spend_dialog(self.context, self, on_closed=self.refresh)  # the budget may have changed

    def open_generate(self) -> GeneratePlanDialog | None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        person_id = self.influencer.currentData()
        if person_id is None:
            return None

        dialog = GeneratePlanDialog(self.influencer.currentText(),
                                    lambda order: ops.estimate(studio, workspace_id, person_id, order),
                                    self)
        dialog.accepted.connect(lambda: self._on_generate_requested(person_id, dialog.order()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.generate_dialog = dialog
        dialog.open()
        return dialog

    def _on_generate_requested(self, person_id: uuid.UUID, order: PlanOrder) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self.calendar.show_day(order.start)
        self._start(lambda: ops.submit_plan(studio, workspace_id, person_id, order),
                    f"Planning {order.days * order.per_day} posts…")

    def _on_regenerate_requested(self, item_id: uuid.UUID, instruction: str) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self._select_item = item_id
        self._start(lambda: ops.submit_regenerate(studio, workspace_id, item_id, instruction),
                    "Writing a new version of this post…")

    def _start(self, submit: Any, text: str) -> None:
        self.message.setText(text)
        self.bar.setValue(0)
        self.bar.show()
        run_in_background(submit, receiver=self, on_done=self.follower.follow,
                          on_error=self._on_start_failed)

    def _on_start_failed(self, exc: BaseException) -> None:
        self.bar.hide()
        self.message.setText("")
        show_error(self, exc)

    def _on_save_requested(self, edit: ItemEdit) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id

        def on_done(saved: PlanItem) -> None:
            self.editor.saved(saved)
            self.message.setText("Saved.")

        def on_error(exc: BaseException) -> None:
            self.editor.save_failed()
            show_error(self, exc)

        run_in_background(lambda: service.edit_item(studio, workspace_id, edit.item_id, edit.changes,
                                                    expected_version=edit.version),
                          receiver=self, on_done=on_done, on_error=on_error)

    def _on_approve_requested(self, item_id: uuid.UUID, approved: bool) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        status = "approved" if approved else "draft"
        self._change(lambda: service.set_status(studio, workspace_id, [item_id], status),
                     "Approved." if approved else "Back to draft.")

    def _change(self, fn: Any, done: str) -> None:
        run_in_background(fn, receiver=self, on_done=lambda _: self.message.setText(done),
                          on_error=lambda exc: show_error(self, exc))

    # Pipeline --------------------------------------------------------------------------------

    def _on_run_requested(self, item_id: uuid.UUID) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id

        def on_done(_: object) -> None:
            self.message.setText("Production queued: picture, clip, export and publish folder "
                                 "are made by the worker.")

        run_in_background(lambda: submit_pipeline(studio, workspace_id, item_id), receiver=self,
                          on_done=on_done, on_error=lambda exc: show_error(self, exc))

    # Jobs ------------------------------------------------------------------------------------

    def _on_job_changed(self, state: JobSnapshot) -> None:
        if not state.finished:
            self.bar.setValue(int(state.progress * 100))
            if state.status is JobStatus.PENDING:
                self.message.setText("Waiting for the worker…")

    def _on_job_finished(self, state: JobSnapshot) -> None:
        self.bar.hide()
        self.message.setText(ops.finished_line(state))
        self._select_plan = ops.made_plan(state) or self._select_plan
        self._jump_to_plan = ops.new_plan(state) or self._jump_to_plan
        self.refresh()
        self.job_finished.emit(state)

