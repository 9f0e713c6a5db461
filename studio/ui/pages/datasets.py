"""Datasets: pick an influencer's dataset, drop pictures on it, curate, caption and export.

Every database or file call goes through ``run_in_background``; the grid's model holds light
rows. The page follows the live state: influencers, datasets, images and captions changed
anywhere (a worker's import, the command line, another desk) are read again, and
``DatasetJobs`` follows the page's jobs through the hub.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSize, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QPushButton, QSlider, QTabWidget, QVBoxLayout, QWidget

from studio.engine.datasets.filters import ImageRow
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import Dataset
from studio.ui.context import StudioContext
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.models.grid_rows import Arranged
from studio.ui.pages import dataset_layout as parts
from studio.ui.pages import dataset_ops as ops
from studio.ui.pages.dataset_curation import DatasetCuration
from studio.ui.pages.dataset_edits import DatasetEdits
from studio.ui.pages.dataset_jobs import IMPORT, DatasetJobs
from studio.ui.staged import Stage, StagedWidget
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.batch_dialog import BatchDialog
from studio.ui.widgets.caption_editor import CaptionEditor
from studio.ui.widgets.caption_history import CaptionHistory
from studio.ui.widgets.dataset_summary import DatasetSummary, summarize
from studio.ui.widgets.filter_bar import FilterBar
from studio.ui.widgets.image_pane import ImagePane
from studio.ui.widgets.import_panel import ImportPanel
from studio.ui.widgets.scrolling import scroll_page
from studio.ui.widgets.tag_panel import TagPanel, side_tabs
from studio.ui.widgets.thumbnail_grid import ThumbnailGrid, dropped_paths


class DatasetsPage(StagedWidget):
    dataset_loaded = Signal()
    rows_refreshed = Signal()
    message_shown = Signal(str)
    # The late parts: built on the event-loop turns after the page's (``_build_frame``).
    filters: FilterBar
    size_slider: QSlider
    pane: ImagePane
    editor: CaptionEditor
    history: CaptionHistory
    undo_action: QAction
    redo_action: QAction
    undo_button: QPushButton
    redo_button: QPushButton
    summary: DatasetSummary
    tag_panel: TagPanel
    side: QTabWidget
    import_panel: ImportPanel
    jobs: DatasetJobs
    curation: DatasetCuration

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.dataset: Dataset | None = None
        self.trigger = ""
        self._reading = False  # one read of the rows at a time; asks meanwhile make one more
        self._again = False
        self._reset_wanted = self._resetting = False  # resetting: rows being replaced
        self._stale = False  # images changed while the page was hidden
        self._waiting: list[Dataset | None] = []  # the dataset chosen while the page was being built
        self.thumbnails = ThumbnailCache(context.studio.paths.cache_dir, parent=self)
        self.model = DatasetImageModel(self.thumbnails, context.studio, self)
        self.edits: DatasetEdits = DatasetEdits(context, lambda: self.dataset, self)
        self._build_frame()
        self.start_stages([
            Stage("filters", self._build_filters), Stage("picture and caption", self._build_caption_column),
            Stage("summary and tags", self._build_side), Stage("jobs and curation", self._build_rest),
            Stage("open the chosen dataset", self._open_waiting)])
        self.setAcceptDrops(True)
        self.picker.reload_influencers()

    # Building: the frame and the grid at once, the rest one stage per event-loop turn ---------

    def _build_frame(self) -> None:
        toolbar = parts.make_toolbar(self.context, self)
        self.picker = picker = toolbar.picker
        self.influencer_box, self.dataset_box, self.new_button = (picker.influencer_box, picker.dataset_box,
                                                                  picker.new_button)
        self.import_button, self.batch_button = toolbar.import_button, toolbar.batch_button
        self.autocaption_button = toolbar.autocaption_button
        self._controls: list[QWidget] = [self.import_button, self.batch_button, self.autocaption_button]
        self.title, self.status = parts.make_title(self), parts.make_status(self)
        self.grid = ThumbnailGrid(self)
        self.grid.setModel(self.model)
        self.grid.setIconSize(QSize(128, 128))
        self.panes = parts.make_panes(self.grid, self)
        self.column = QVBoxLayout()
        self.column.addWidget(self.title)
        self.column.addLayout(toolbar.row)
        self.column.addWidget(self.panes.splitter, 1)
        self.column.addWidget(self.status)
        scroll_page(self, self.column)
        self._dataset_controls(False)
        self._connect_frame()

    def _build_filters(self) -> None:
        self.filters, self.size_slider = parts.make_filters(self)
        self.column.insertWidget(self.column.indexOf(self.panes.splitter), self.filters)
        self._add_controls(self.filters)
        self.size_slider.valueChanged.connect(self.grid.set_thumb_size)
        self.filters.filter_changed.connect(self._on_filter_changed)
        self.model.modelReset.connect(self._on_model_reset)
        self.model.rows_loaded.connect(self._on_model_reset)  # also after rows appended to a first page

    def _build_caption_column(self) -> None:
        self.history = CaptionHistory(self)
        self.undo_action, self.redo_action = self.history.undo_action, self.history.redo_action
        self.undo_button, self.redo_button = self.history.undo_button, self.history.redo_button
        self.pane = ImagePane(self)
        self.editor = CaptionEditor(self)
        self.panes.fill_right(parts.make_caption_column(self.pane, self.editor, self.history, self))
        self.history.undo_requested.connect(self.undo)
        self.history.redo_requested.connect(self.redo)
        self.pane.crop_edited.connect(self.edits.save_crop)
        self.editor.caption_edited.connect(self.edits.save_caption)
        self.edits.caption_conflicted.connect(self.editor.show_conflict)
        self.edits.caption_settled.connect(self.editor.save_settled)
        self.editor.text.next_requested.connect(lambda: self.step(1))
        self.editor.text.previous_requested.connect(lambda: self.step(-1))

    def _build_side(self) -> None:
        self.summary = DatasetSummary(self)
        self.tag_panel = TagPanel(self)
        self.side = side_tabs(self.summary, self.tag_panel, self)
        self.panes.fill_side(self.side)
        self._add_controls(self.side)

    def _build_rest(self) -> None:
        self.import_panel = ImportPanel(self)
        self.column.insertWidget(self.column.indexOf(self.panes.splitter), self.import_panel)
        self.jobs = DatasetJobs(self.context, self.import_panel, lambda: self.dataset, self)
        self.curation = DatasetCuration(self)
        self.picker.dataset_opened.connect(self.open_dataset)  # after the curation's: it resets first
        self.context.live.changed.connect(self._on_live_changed)  # only an open dataset reads again
        self.import_button.clicked.connect(self.jobs.ask_import)
        self.editor.text.next_uncaptioned_requested.connect(self.curation.next_uncaptioned)
        self.summary.analyze_requested.connect(self.jobs.analyze)
        self.jobs.message_shown.connect(self.show_message)
        self.jobs.job_finished.connect(lambda _job: self.refresh())

    def _connect_frame(self) -> None:
        self.picker.dataset_opened.connect(self._on_dataset_chosen)
        self.picker.dataset_updated.connect(self._adopt)
        self.picker.message_shown.connect(self.show_message)
        self.batch_button.clicked.connect(self._on_batch_clicked)
        self.autocaption_button.clicked.connect(self._on_autocaption_clicked)
        self.grid.paths_dropped.connect(self.import_paths)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self._show_current())
        self.edits.message_shown.connect(self.show_message)
        self.edits.edited.connect(self.refresh)

    def _on_dataset_chosen(self, dataset: Dataset | None) -> None:
        if not self.stages.done:  # opened by the last stage; once built, ``open_dataset`` follows
            self._waiting = [dataset]

    def _open_waiting(self) -> None:
        for dataset in self._waiting:
            self.open_dataset(dataset)

    def _add_controls(self, widget: QWidget) -> None:
        """A part that works on the open dataset: disabled while none is open."""
        self._controls.append(widget)
        widget.setEnabled(self.dataset is not None)

    def _dataset_controls(self, on: bool) -> None:
        for widget in self._controls:
            widget.setEnabled(on)

    def show_message(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))  # no empty line under the grid taking the page's room
        self.message_shown.emit(text)

    # Following changes -----------------------------------------------------------------------

    def _on_live_changed(self, changes: ChangeSet) -> None:
        """Pictures and captions changed anywhere (the picker follows influencers and datasets)."""
        if self.dataset is not None and changes.touches(Entity.IMAGE, Entity.CAPTION,
                                                        workspace_id=self.context.workspace_id):
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.refresh()

    # The open dataset ------------------------------------------------------------------------

    def _adopt(self, dataset: Dataset) -> None:
        """A fresher copy of the open dataset (renamed, its separator changed elsewhere)."""
        self.dataset = dataset
        self.filters.tag_split = ops.tag_splitter(dataset.tag_separator)
        self.editor.text.separator = dataset.tag_separator

    def open_dataset(self, dataset: Dataset | None) -> None:
        self.editor.flush()
        self.dataset = dataset
        self.trigger = self.picker.trigger
        self.editor.show_caption(None, "")
        self.pane.show_row(None, None)
        self._dataset_controls(dataset is not None)
        if dataset is None:
            self.model.set_rows([])
            self.summary.show_summary(summarize([]))
            return
        self._adopt(dataset)
        self.refresh(reset=True)

    # Jobs ------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self.dataset is not None and dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    def import_paths(self, paths: list[Path]) -> None:
        if self.dataset is None:
            self.show_message("Choose or create a dataset first, then drop the pictures on it.")
        else:
            self.jobs.import_paths(paths)

    def follow_import(self, job_id: uuid.UUID) -> None:
        """An import queued elsewhere (the getting-started guide's sample) shown as if dropped."""
        self.jobs.follow(IMPORT, job_id, None)

    def analyze(self) -> None:
        self.jobs.analyze()

    def export_to(self, folder: Path) -> None:
        self.jobs.export_to(folder)

    def _on_autocaption_clicked(self) -> None:
        self.editor.flush()
        ids = self.selected_ids() or [r.id for r in self.model.shown_rows() if not r.caption.strip()]
        if ids:
            self.jobs.ask_autocaption(ids)
        else:
            self.show_message("Select the pictures to caption (or filter to those without a caption).")

    # Rows ------------------------------------------------------------------------------------

    def refresh(self, *, reset: bool = False) -> None:
        """Reads the rows, then tags, undo state and checks; ``reset`` re-applies the filter. Asks
        while a read is out make one more read after it; a hidden page reads when shown again."""
        self._reset_wanted = self._reset_wanted or reset
        dataset, context = self.dataset, self.context
        if dataset is None:
            return
        if not self.isVisible() and not self._reset_wanted:
            self._stale = True
            return
        if self._reading:
            self._again = True
            return
        self._reading, self._stale = True, False
        reset, self._reset_wanted = self._reset_wanted, False
        model = self.model  # rows are arranged on the worker: no per-row work on the UI thread
        if reset:
            model.open_first(context.studio, dataset)  # the first screen before the whole dataset
        run_in_background(lambda: model.load(context.studio, dataset), receiver=self,
                          on_done=lambda rows: self._on_rows_loaded(dataset, rows, reset),
                          on_error=self._on_rows_failed)

    def _is_open(self, dataset: Dataset) -> bool:
        return self.dataset is not None and dataset.id == self.dataset.id

    def _on_rows_loaded(self, dataset: Dataset, rows: Arranged, reset: bool) -> None:
        if self._is_open(dataset):
            if reset or not self.model.same_ids(rows):
                self._set_rows_keeping_current(rows)
                self.dataset_loaded.emit()
            else:
                self.model.update_rows(self.model.changed(rows))
            self.summary.show_summary(rows.summary)
            self._show_current()
            self.rows_refreshed.emit()
            context, read = self.context, list(rows.rows.values())  # a copy: edits update them here
            run_in_background(lambda: ops.extras(context, dataset, read), receiver=self,
                              on_done=lambda found: self._on_extras_loaded(dataset, found))
        self._read_done()

    def _set_rows_keeping_current(self, rows: Arranged) -> None:
        """A re-read keeps the picture being captioned open, and its unsaved typing with it."""
        keep, self._resetting = self.editor.image_id, True
        self.model.set_rows(rows)
        self._resetting = False
        position = self.model.position(keep) if keep else -1
        if position >= 0:
            self.select_position(position)
        else:
            self._show_current()

    def _on_rows_failed(self, exc: BaseException) -> None:
        self.show_message(f"Cannot read the pictures right now: {exc}")
        self._read_done()

    def _read_done(self) -> None:
        self._reading = False
        if self._again:
            self._again = False
            self.refresh()

    def _on_extras_loaded(self, dataset: Dataset, found: ops.Extras) -> None:
        if not self._is_open(dataset):
            return
        self.editor.text.set_tags(found.tags)
        self.editor.suggest_family(dataset.id, found.family)
        self.filters.set_tags([tag for tag, _ in found.tags])
        self.tag_panel.set_tags(found.tags)
        self.side.setTabText(1, f"Tags ({len(found.tags)})")
        self.history.show_state(found.history)
        self.summary.show_problems(found.problems)

    def _on_filter_changed(self, spec: Any) -> None:
        self.editor.flush()
        self.model.set_filter(spec)

    def _on_model_reset(self) -> None:
        self.filters.count.setText(f"{self.model.rowCount()} of {self.model.total()} shown  ")

    # The current image -----------------------------------------------------------------------

    def current_row(self) -> ImageRow | None:
        return self.model.row_at(self.grid.currentIndex().row())

    def _show_current(self) -> None:
        if self._resetting:  # the current picture is chosen again once the rows are in
            return
        row = self.current_row()
        source = self.context.studio.asset_path(row.storage_key) if row else None
        self.pane.show_row(row, source)
        if row is None:
            self.editor.show_caption(None, "")
        elif row.id != self.editor.image_id:
            self.editor.show_caption(row.id, row.caption)
        else:
            self.editor.refresh_caption(row.caption)

    def step(self, delta: int) -> None:
        count = self.model.rowCount()
        if count:
            position = min(max(self.grid.currentIndex().row() + delta, 0), count - 1)
            self.select_position(position)

    def select_position(self, position: int) -> None:
        """Moves the selection to this picture alone: a key held with Ctrl+Enter must not add to it."""
        index = self.model.index(position)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.grid.scrollTo(index)

    # Edits -----------------------------------------------------------------------------------

    def undo(self) -> None:
        self.editor.flush()  # the caption being typed is saved first, then taken back
        self.edits.undo()

    def redo(self) -> None:
        self.editor.flush()
        self.edits.redo()

    def _on_batch_clicked(self) -> None:
        self.editor.flush()
        selected = self.selected_ids()
        counts = {"all": self.model.total(), "filtered": self.model.rowCount(), "selected": len(selected)}
        dialog = BatchDialog(counts=counts, trigger=self.trigger,
                             separator=self.dataset.tag_separator if self.dataset else ",", parent=self)
        if self.open_dialog(dialog) == QDialog.DialogCode.Accepted:
            scope = dialog.scope()
            ids = None if scope == "all" else self.model.shown_ids() if scope == "filtered" else selected
            self.apply(dialog.op, ids)

    def open_dialog(self, dialog: QDialog) -> int:
        """Separate so that tests can fill the dialog in instead of a user."""
        return dialog.exec()

    def apply(self, op: Any, image_ids: list[uuid.UUID] | None) -> None:
        self.edits.apply(op, image_ids)

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [r.id for r in (self.model.row_at(p) for p in rows) if r is not None]
