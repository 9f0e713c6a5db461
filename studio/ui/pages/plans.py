"""Content plans: generate one for an influencer, review its posts, edit, approve, regenerate.

Posts are shown in a week or month calendar (coloured by status, dragged to move them to
another day) and as a list of the chosen plan; either selects the post in the item editor.
"Generate plan…" opens a dialog that shows the estimated cost first. Under the editor, an
approved post's pipeline is started and followed (polled every second while the page shows).

The page is thin: every engine call (plans.service, the budget, the pipeline) runs through
run_in_background, and generation jobs are followed with the Datasets page's JobWatcher.
The budget line at the top turns amber at 80 % and red when paid calls are refused.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QTabWidget,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.engine.db.models import Influencer, PlanItem
from studio.engine.errors import StudioError
from studio.engine.influencers import list_influencers
from studio.engine.llm.budget import BudgetStatus, budget_status
from studio.engine.pipelines.service import PipelineStatus, pipeline_status, submit_pipeline
from studio.engine.plans import service
from studio.engine.plans.calendar import CalendarRow, items_between, moved_to
from studio.engine.plans.estimate import PlanEstimate, estimate_plan
from studio.ui.context import StudioContext
from studio.ui.errors import one_line, show_error
from studio.ui.tasks import run_in_background
from studio.ui.widgets.import_panel import JobState, JobWatcher
from studio.ui.widgets.plan_calendar import PlanCalendar
from studio.ui.widgets.plan_form import PlanOrder
from studio.ui.widgets.plan_generate_dialog import GeneratePlanDialog
from studio.ui.widgets.plan_item_editor import ItemEdit, PlanItemEditor
from studio.ui.widgets.plan_pipeline import PipelinePanel
from studio.ui.widgets.spend_dialog import SpendDialog

BUDGET_COLOURS = {"warning": "#b7791f", "exceeded": "#c0392b"}
COLUMNS = ("When", "Platform", "Status", "Topic", "Hook")
ID_ROLE = Qt.ItemDataRole.UserRole
PIPELINE_POLL_MS = 1000
NO_INFLUENCER = "Create an influencer first; plans are written in their persona."


@dataclass(frozen=True, slots=True)
class Overview:
    influencers: Sequence[Influencer]
    plans: list[service.PlanSummary]
    budget: BudgetStatus


class PlansPage(QWidget):
    plans_loaded = Signal()
    items_loaded = Signal()
    calendar_loaded = Signal()
    pipeline_loaded = Signal(object)  # PipelineStatus
    job_finished = Signal(object)  # JobState

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.items: list[PlanItem] = []
        self._summaries: list[service.PlanSummary] = []
        self._select_plan: str | None = None
        self._select_item: uuid.UUID | None = None
        self._polling = False
        self.watcher = JobWatcher(self._fetch_job, self)
        self.watcher.job_changed.connect(self._on_job_changed)
        self.watcher.job_finished.connect(self._on_job_finished)
        self._build()
        self.context.workspace_changed.connect(self.refresh)
        self.refresh()

    def _build(self) -> None:
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
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.hide()
        self.plans = QListWidget(self)
        self.plans.setObjectName("plans-list")
        self.plans.setMinimumWidth(120)
        self.plans.currentItemChanged.connect(self._on_plan_selected)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("plan-items")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1,
                                                           QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_item_selected)
        self.calendar = PlanCalendar(self)
        self.calendar.range_changed.connect(self._load_calendar)
        self.calendar.item_selected.connect(self._on_calendar_selected)
        self.calendar.item_moved.connect(self._on_item_moved)
        self.views = QTabWidget(self)
        self.views.addTab(self.calendar, "Calendar")
        self.views.addTab(self.table, "Posts of the plan")
        self.editor = PlanItemEditor(self)
        self.editor.save_requested.connect(self._on_save_requested)
        self.editor.approve_requested.connect(self._on_approve_requested)
        self.editor.regenerate_requested.connect(self._on_regenerate_requested)
        self.pipeline = PipelinePanel(self)
        self.pipeline.run_requested.connect(self._on_run_requested)
        self.pipeline_timer = QTimer(self)
        self.pipeline_timer.setInterval(PIPELINE_POLL_MS)
        self.pipeline_timer.timeout.connect(self._poll_pipeline)
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.editor)
        side_layout.addWidget(self.pipeline)
        side_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        splitter = QSplitter(self)
        for widget in (self.plans, self.views, scroll):
            splitter.addWidget(widget)
        for index, stretch in enumerate((0, 1, 0)):  # a wider window widens the calendar
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([150, 700, 340])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(splitter, 1)

    # Loading ---------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        # Plans made from the command line or another window appear when the page is opened.
        super().showEvent(event)
        self.refresh()
        self.pipeline_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self.pipeline_timer.stop()  # nobody looks: no polling

    def refresh(self) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id

        def load() -> Overview:
            return Overview(list_influencers(studio, workspace_id),
                            service.list_plans(studio, workspace_id),
                            budget_status(studio.db, workspace_id))

        run_in_background(load, receiver=self, on_done=self._on_loaded,
                          on_error=lambda exc: show_error(self, exc))

    def _on_loaded(self, overview: Overview) -> None:
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
        colour = BUDGET_COLOURS.get(status.level)
        self.budget.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")

    def _fill_plans(self) -> None:
        wanted = self._select_plan or self._current_plan_id()
        self._select_plan = None
        person = self.influencer.currentData()
        self.plans.blockSignals(True)
        self.plans.clear()
        for summary in self._summaries:
            if summary.plan.influencer_id != person:
                continue
            entry = QListWidgetItem(f"{_span(summary.plan.start_date, summary.plan.end_date)}"
                                    f"\n{summary.items} post{'' if summary.items == 1 else 's'}, "
                                    f"{summary.approved} approved")
            entry.setData(ID_ROLE, str(summary.plan.id))
            self.plans.addItem(entry)
            if str(summary.plan.id) == wanted:
                self.plans.setCurrentItem(entry)
        self.plans.blockSignals(False)
        if self.plans.currentItem() is None and self.plans.count():
            self.plans.setCurrentRow(self.plans.count() - 1)  # the newest
        else:
            self._on_plan_selected()

    def _current_plan_id(self) -> str | None:
        current = self.plans.currentItem()
        return str(current.data(ID_ROLE)) if current is not None else None

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
        plan_id = self._current_plan_id()
        if plan_id is None:
            self._show_items([])
            return
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: service.list_items(studio, workspace_id, uuid.UUID(plan_id)),
                          receiver=self, on_done=self._show_items,
                          on_error=lambda exc: show_error(self, exc))

    def _show_items(self, items: Sequence[PlanItem]) -> None:
        wanted = self._select_item or (self.editor.item.id if self.editor.item else None)
        self._select_item = None
        self.items = list(items)
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.items))
        selected = -1
        for row, item in enumerate(self.items):
            values = (f"{item.scheduled_at.astimezone():%a %d %b %H:%M}", item.platform,
                      item.status, item.topic, item.hook)
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
            if item.id == wanted:
                selected = row
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)
        if selected >= 0:
            self.table.selectRow(selected)
        self._on_item_selected()
        self.items_loaded.emit()

    def _on_item_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        item = self.items[rows.pop()] if len(rows) == 1 else None
        self.editor.show_item(item)
        self.pipeline.show_item(item)
        self._poll_pipeline()
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
        index = next((i for i, item in enumerate(self.items) if item.id == item_id), None)
        if index is not None:
            self.table.selectRow(index)
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
            self.refresh()

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
        dialog = SpendDialog(self.context, self)
        dialog.finished.connect(lambda _: self.refresh())  # the budget may have changed
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_generate(self) -> GeneratePlanDialog | None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        person_id = self.influencer.currentData()
        if person_id is None:
            return None

        def estimate(order: PlanOrder) -> PlanEstimate:
            return estimate_plan(studio, workspace_id, person_id, order.start, order.days,
                                 platforms=order.platforms, per_day=order.per_day,
                                 brief=order.brief)

        dialog = GeneratePlanDialog(self.influencer.currentText(), estimate, self)
        dialog.accepted.connect(lambda: self._on_generate_requested(person_id, dialog.order()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.generate_dialog = dialog
        dialog.open()
        return dialog

    def _on_generate_requested(self, person_id: uuid.UUID, order: PlanOrder) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self.calendar.show_day(order.start)

        def submit() -> uuid.UUID:
            person = next(i for i in list_influencers(studio, workspace_id) if i.id == person_id)
            return service.submit_generate_plan(
                studio, workspace_id, person, order.start, order.days, platforms=order.platforms,
                per_day=order.per_day, brief=order.brief).id

        self._start(submit, f"Planning {order.days * order.per_day} posts…")

    def _on_regenerate_requested(self, item_id: uuid.UUID, instruction: str) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id

        def submit() -> uuid.UUID:
            item = service.find_item(studio, workspace_id, str(item_id))
            return service.submit_regenerate_item(studio, workspace_id, item,
                                                  instruction=instruction).id

        self._select_item = item_id
        self._start(submit, "Writing a new version of this post…")

    def _start(self, submit: Any, text: str) -> None:
        self.message.setText(text)
        self.bar.setValue(0)
        self.bar.show()
        run_in_background(submit, receiver=self, on_done=self.watcher.watch,
                          on_error=self._on_start_failed)

    def _on_start_failed(self, exc: BaseException) -> None:
        self.bar.hide()
        self.message.setText("")
        show_error(self, exc)

    def _on_save_requested(self, edit: ItemEdit) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        self._change(lambda: service.edit_item(studio, workspace_id, edit.item_id, edit.changes,
                                               expected_version=edit.version), "Saved.")

    def _on_approve_requested(self, item_id: uuid.UUID, approved: bool) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        status = "approved" if approved else "draft"
        self._change(lambda: service.set_status(studio, workspace_id, [item_id], status),
                     "Approved." if approved else "Back to draft.")

    def _change(self, fn: Any, done: str) -> None:
        def on_done(_: object) -> None:
            self.message.setText(done)
            self.refresh()

        run_in_background(fn, receiver=self, on_done=on_done,
                          on_error=lambda exc: show_error(self, exc))

    # Pipeline --------------------------------------------------------------------------------

    def _on_run_requested(self, item_id: uuid.UUID) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id

        def on_done(_: object) -> None:
            self.message.setText("Production queued: picture, clip, export and publish folder "
                                 "are made by the worker.")
            self.refresh()

        run_in_background(lambda: submit_pipeline(studio, workspace_id, item_id), receiver=self,
                          on_done=on_done, on_error=lambda exc: show_error(self, exc))

    def _poll_pipeline(self) -> None:
        """One status read at a time; a slow database skips ticks rather than piling them up."""
        item = self.editor.item
        if item is None or self._polling:
            return
        self._polling = True
        studio, workspace_id, item_id = self.context.studio, self.context.workspace_id, item.id
        before = self.pipeline.status.state if self.pipeline.status else None

        def on_done(status: PipelineStatus) -> None:
            self._polling = False
            if self.editor.item is None or self.editor.item.id != item_id:
                self._poll_pipeline()  # another post was chosen meanwhile: read its status
                return
            self.pipeline.show_status(status)
            self.pipeline_loaded.emit(status)
            if before == "running" and status.state != "running":
                self.message.setText(self.pipeline.state.text())
                self.refresh()  # the post's status (and its colour) changed with the run

        def on_error(exc: BaseException) -> None:
            self._polling = False
            if not isinstance(exc, StudioError):
                show_error(self, exc)
            self.pipeline.state.setText(one_line(exc))

        run_in_background(lambda: pipeline_status(studio, workspace_id, item_id), receiver=self,
                          on_done=on_done, on_error=on_error)

    # Jobs ------------------------------------------------------------------------------------

    def _fetch_job(self, job_id: uuid.UUID) -> JobState:
        job = self.context.studio.jobs.get(self.context.workspace_id, job_id)
        return JobState(job.id, job.type, job.status, job.progress, job.message, job.error,
                        dict(job.result) if job.result else None)

    def _on_job_changed(self, state: JobState) -> None:
        if not state.finished:
            self.bar.setValue(int(state.progress * 100))
            if state.status == "pending":
                self.message.setText("Waiting for the worker…")

    def _on_job_finished(self, state: JobState) -> None:
        self.bar.hide()
        result = state.result or {}
        if state.status == "completed":
            hits = f", {result.get('cache_hits')} answer(s) from the cache" if result.get("cache_hits") else ""
            text = f"Done with {result.get('model', 'the model')}: ${float(result.get('cost_usd', 0)):.4f}{hits}."
            warnings = result.get("warnings") or []
            self.message.setText(" ".join([text, *warnings]))
            self._select_plan = str(result.get("plan_id") or "") or None
        else:
            self.message.setText(f"The job {state.status}: {state.error or state.message}")
        self.refresh()
        self.job_finished.emit(state)


def _span(first: date, last: date) -> str:
    """'23 – 29 Nov 2026', short enough for the narrow list of plans."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
