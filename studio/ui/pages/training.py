"""Training: LoRA trainings with kohya sd-scripts, set up, queued and watched live.

The left side (``TrainingForm``) picks a dataset and a preset, shows every setting grouped basic /
advanced, and, after each change, the plan's steps, time estimate and the checks' findings (a
background ``plan_training``). Start queues a train-lora job. The right side
(``TrainingMonitor``) follows the trainings through the job hub: whenever the hub reports a
training changed (and when a checkpoint is registered), one background read brings the queue,
the selected training's row, the loss points appended to its metrics.jsonl since the last read,
new samples, the log tail and saved checkpoints. The page owns no polling timer; the dataset
picker follows dataset and influencer changes made anywhere.
"""
from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.training.config import load_presets
from studio.engine.training.jobs import JOB_TYPE
from studio.engine.training.plan import TrainingPlan
from studio.engine.training.user_presets import (
    UserPreset,
    delete_user_preset,
    load_user_presets,
    save_user_preset,
)
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.form_memory import remember_training_form, restore_training_form, set_datasets_as_before
from studio.ui.models import training_data as data
from studio.ui.pages.lora_file_import import choose_and_import
from studio.ui.tasks import run_in_background
from studio.ui.timers import single_shot_timer
from studio.ui.widgets.training_form import TrainingForm
from studio.ui.widgets.training_monitor import TrainingMonitor

PLAN_DELAY_MS = 300


class TrainingPage(QWidget):
    snapshot_shown = Signal()
    training_started = Signal(object)  # uuid.UUID
    message_shown = Signal(str)
    use_in_generate = Signal(object)  # a LoRA's id: the window opens Generate with it chosen
    user_presets_loaded = Signal(list)  # list[UserPreset], as the preset picker now lists them

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.selected_id: uuid.UUID | None = None
        self._offset = 0
        self._reading = False
        self._again = False
        self._stale = True  # something changed while the page was hidden
        self._shown_id: uuid.UUID | None = None
        self._build()
        self._plan_timer = single_shot_timer(self, interval_ms=PLAN_DELAY_MS)
        self._plan_timer.timeout.connect(self.refresh_plan)
        self._connect()
        self.form.set_presets(load_presets())
        restore_training_form(context, self.form)  # then what changes is remembered:
        self.form.changed.connect(lambda: remember_training_form(context, self.form))
        self.form.sd_scripts.setText(context.studio.settings.sdscripts.folder)
        self.load_user_presets()
        self.reload()

    def _build(self) -> None:
        self.form = TrainingForm(self)
        self.monitor = TrainingMonitor(self)
        self.status = QLabel(self)
        self.status.setObjectName("training-status")
        self.status.setWordWrap(True)
        self.form.setMinimumWidth(300)  # its settings scroll inside it; Start stays in sight
        # In a small window the monitor scrolls instead of forcing the window to grow; the form
        # stays outside that scroll area, so Start never goes below the window's edge.
        monitor = QScrollArea(self)
        monitor.setWidgetResizable(True)
        monitor.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget(self)  # asks the monitor, not its layout, whether it wraps lines
        holding = QVBoxLayout(holder)
        holding.setContentsMargins(0, 0, 0, 0)
        holding.addWidget(self.monitor)
        monitor.setWidget(holder)
        split = QSplitter(self)
        split.addWidget(self.form)
        split.addWidget(monitor)
        split.setSizes([420, 680])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    def _connect(self) -> None:
        self.context.workspace_changed.connect(self._on_workspace_changed)
        self.context.live.changed.connect(self._on_live_changed)
        self.context.jobs.jobs_changed.connect(self._on_jobs_changed)
        self.form.changed.connect(self._plan_timer.start)
        self.form.start_requested.connect(self.start)
        self.form.preset_save_requested.connect(self.save_preset)
        self.form.preset_delete_requested.connect(self.delete_preset)
        self.monitor.selection_changed.connect(self.select)
        self.monitor.cancel_requested.connect(self.cancel)
        self.monitor.resume_requested.connect(self.resume)
        self.monitor.reorder_requested.connect(self.reorder)
        self.monitor.grid_requested.connect(self.test_grid)
        self.monitor.activate_requested.connect(self.set_active)
        self.monitor.use_requested.connect(self.use_in_generate)
        self.monitor.attach(self.context.jobs)  # Retry of a failed one, why a waiting one waits
        self.monitor.import_requested.connect(lambda: choose_and_import(self, self.context, self.show_message))

    def show_message(self, text: str) -> None:
        self.status.setText(text)
        self.message_shown.emit(text)

    # Following changes -----------------------------------------------------------------------

    def _on_live_changed(self, changes: ChangeSet) -> None:
        workspace_id = self.context.workspace_id
        if changes.touches(Entity.DATASET, Entity.INFLUENCER, workspace_id=workspace_id):
            self.reload_datasets()
        if changes.touches(Entity.LORA, workspace_id=workspace_id):
            self.refresh_monitor()  # a checkpoint registered, or the active one changed

    def _on_jobs_changed(self, snapshots: list[JobSnapshot]) -> None:
        if any(s.type == JOB_TYPE for s in snapshots):
            self.refresh_monitor()

    # Setting up ------------------------------------------------------------------------------

    def reload(self) -> None:
        self.reload_datasets()
        self.refresh_monitor()

    def reload_datasets(self) -> None:
        context = self.context
        run_in_background(lambda: data.datasets(context), receiver=self, on_done=self._on_datasets_loaded)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.refresh_monitor()  # what changed while it was hidden

    def _on_workspace_changed(self) -> None:
        self.selected_id = None
        self.reload()

    def _on_datasets_loaded(self, choices: list[data.DatasetChoice]) -> None:
        set_datasets_as_before(self.context, self.form, choices)
        if not choices:
            self.form.show_problem("This workspace has no datasets yet: make one on the Datasets page.")
        self._plan_timer.start()

    def refresh_plan(self) -> None:
        request = self.form.request()
        if request is None:
            return
        context = self.context
        run_in_background(lambda: data.plan(context, request), receiver=self, on_done=self._on_planned,
                          on_error=lambda exc: self.form.show_problem(one_line(exc)))

    def _on_planned(self, plan: TrainingPlan) -> None:
        self.form.show_plan(plan)

    # The user's presets -----------------------------------------------------------------------

    def load_user_presets(self, select: str | None = None) -> None:
        folder = self.context.studio.paths.config_dir
        run_in_background(lambda: load_user_presets(folder), receiver=self,
                          on_done=lambda found: self._on_user_presets(found, select),
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def _on_user_presets(self, found: list[UserPreset], select: str | None) -> None:
        self.form.set_user_presets(found, select)
        self.user_presets_loaded.emit(found)

    def save_preset(self, name: str) -> None:
        preset = self.form.current_preset()
        if preset is None:
            return
        folder, values = self.context.studio.paths.config_dir, self.form.form_values()
        run_in_background(lambda: save_user_preset(folder, name=name, base=preset.slug, values=values),
                          receiver=self, on_done=self._on_preset_saved,
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def _on_preset_saved(self, preset: UserPreset) -> None:
        self.show_message(f"Saved your preset {preset.name}.")
        self.load_user_presets(select=preset.slug)

    def delete_preset(self, slug: str) -> None:
        folder = self.context.studio.paths.config_dir
        name = self.form.user_presets[slug].name if slug in self.form.user_presets else slug
        run_in_background(lambda: delete_user_preset(folder, slug), receiver=self,
                          on_done=lambda _: self._after_preset_deleted(name),
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def _after_preset_deleted(self, name: str) -> None:
        self.show_message(f"Deleted your preset {name}.")
        self.load_user_presets()

    # Starting --------------------------------------------------------------------------------

    def start(self) -> None:
        request = self.form.request()
        if request is None:
            self.form.show_problem("Choose a dataset and a preset first.")
            return
        self.form.start_button.setEnabled(False)
        context = self.context
        run_in_background(lambda: data.submit(context, request), receiver=self, on_done=self._on_started,
                          on_error=self._on_start_failed)

    def _on_started(self, job_id: uuid.UUID) -> None:
        self.form.start_button.setEnabled(True)
        self.show_message("Training queued; it starts when the GPU is free.")
        self.select(job_id)
        self.training_started.emit(job_id)
        self._plan_timer.start()  # the next run gets the next free name

    def _on_start_failed(self, exc: BaseException) -> None:
        self.form.show_problem(one_line(exc))

    # Watching --------------------------------------------------------------------------------

    def select(self, job_id: uuid.UUID) -> None:
        if job_id != self.selected_id:
            self.selected_id = job_id
            self._shown_id = None  # the chart and strip start over for it
            self._offset = 0
            self.refresh_monitor()

    def refresh_monitor(self) -> None:
        """One background read of the trainings and the selected one's files; never two at once."""
        if not self.isVisible():
            self._stale = True  # a hidden page reads when it is shown
            return
        if self._reading:
            self._again = True
            return
        self._reading, self._stale = True, False
        context, wanted, offset = self.context, self.selected_id, self._offset
        known = self.monitor.samples_known() if wanted == self._shown_id else 0
        run_in_background(lambda: data.snapshot(context, wanted, offset, known), receiver=self,
                          on_done=lambda snap: self._on_snapshot(snap, wanted, offset),
                          on_error=self._on_read_failed)

    def _on_snapshot(self, snap: data.Snapshot, asked: uuid.UUID | None, offset: int) -> None:
        if asked == self.selected_id and offset == self._offset:  # else the user picked another
            chosen = snap.selected.id if snap.selected else None
            new_selection = chosen != self._shown_id
            self.selected_id = chosen
            self._shown_id = chosen
            self._offset = snap.offset
            self.monitor.show_snapshot(snap, new_selection=new_selection)
            self.snapshot_shown.emit()
        else:
            self._again = True
        self._read_done()

    def _on_read_failed(self, exc: BaseException) -> None:
        self.show_message(one_line(exc))
        self._read_done()

    def _read_done(self) -> None:
        self._reading = False
        if self._again:
            self._again = False
            self.refresh_monitor()

    # Acting ----------------------------------------------------------------------------------

    def cancel(self, job_id: uuid.UUID) -> None:
        self._act(lambda: data.cancel(self.context, job_id), "Canceling the training…")

    def resume(self, job_id: uuid.UUID) -> None:
        context = self.context
        run_in_background(lambda: data.resume(context, job_id), receiver=self,
                          on_done=lambda message: self._after(message or "Training queued again."),
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def reorder(self, job_ids: list[uuid.UUID]) -> None:
        self._act(lambda: data.reorder(self.context, job_ids), "Queue order changed.")

    def set_active(self, lora_id: uuid.UUID) -> None:
        context = self.context
        run_in_background(lambda: data.set_active(context, lora_id), receiver=self,
                          on_done=lambda name: self._after(f"{name} is now the influencer's active LoRA."),
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def test_grid(self, job_id: uuid.UUID, lora_ids: list[uuid.UUID]) -> None:
        context = self.context
        run_in_background(lambda: data.test_grid(context, job_id, lora_ids), receiver=self, lane="io",
                          on_done=lambda sheet: self._after(
                              f"Test grid queued; the contact sheet appears in the Gallery when done "
                              f"(job {sheet})."),
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def _act(self, fn: object, message: str) -> None:
        run_in_background(fn, receiver=self, on_done=lambda _: self._after(message),  # type: ignore[arg-type]
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def _after(self, message: str) -> None:
        self.show_message(message)
        self.refresh_monitor()
