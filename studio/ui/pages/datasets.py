"""Datasets: pick an influencer's dataset, drop pictures on it, curate, caption and export.

The page wires widgets to the engine; every database or file call goes through
``run_in_background``. The grid's model holds light rows; the image pane, caption editor and
summary show the current row and the whole dataset.
"""
from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDialog, QFrame, QHBoxLayout, QInputDialog, QLabel,
                               QPushButton, QScrollArea, QSlider, QSplitter, QVBoxLayout, QWidget)

from studio.engine.db.models import Dataset
from studio.ui.context import StudioContext
from studio.engine.datasets.filters import ImageRow
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.pages import dataset_ops as ops
from studio.ui.pages.dataset_jobs import DatasetJobsMixin
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.batch_dialog import BatchDialog
from studio.ui.widgets.caption_editor import CaptionEditor
from studio.ui.widgets.dataset_summary import DatasetSummary, summarize
from studio.ui.widgets.filter_bar import FilterBar
from studio.ui.widgets.image_pane import ImagePane
from studio.ui.widgets.import_panel import ImportPanel, JobWatcher
from studio.ui.widgets.thumbnail_grid import ThumbnailGrid


class DatasetsPage(DatasetJobsMixin, QWidget):
    dataset_loaded = Signal()
    rows_refreshed = Signal()
    message_shown = Signal(str)

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.dataset: Dataset | None = None
        self.trigger = ""
        self.thumbnails = ThumbnailCache(context.studio.paths.cache_dir, parent=self)
        self.model = DatasetImageModel(self.thumbnails, context.studio, self)
        self.watcher = JobWatcher(lambda job_id: ops.job_state(context, job_id), self)
        self._watching = ""  # "import" or "analysis"
        self._build()
        self._connect()
        self.setAcceptDrops(True)
        self.reload_influencers()

    # Building --------------------------------------------------------------------------------

    def _build(self) -> None:
        self.influencer_box = QComboBox(self)
        self.influencer_box.setMinimumWidth(160)
        self.dataset_box = QComboBox(self)
        self.dataset_box.setMinimumWidth(160)
        self.new_button = QPushButton("New dataset…", self)
        self.import_button = QPushButton("Add pictures…", self)
        self.batch_button = QPushButton("Batch edit…", self)
        self.autocaption_button = QPushButton("Auto-caption…", self)
        self.autocaption_button.setToolTip("Caption the selected pictures (or those without a caption) "
                                           "with the vision model set in Settings (llm.model)")
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = QAction("Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setEnabled(False)
            self.addAction(action)
        self.undo_button = QPushButton("Undo", self)
        self.redo_button = QPushButton("Redo", self)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setRange(64, 256)
        self.size_slider.setValue(128)
        self.size_slider.setFixedWidth(110)
        self.size_slider.setToolTip("Thumbnail size")
        for button in (self.undo_button, self.redo_button):
            button.setMaximumWidth(170)
        top = QHBoxLayout()
        for widget in (QLabel("Influencer", self), self.influencer_box, QLabel("Dataset", self),
                       self.dataset_box, self.new_button, self.import_button):
            top.addWidget(widget)
        top.addStretch(1)
        for widget in (self.batch_button, self.autocaption_button):
            top.addWidget(widget)

        self.filters = FilterBar(self)
        self.filters.extra.addWidget(QLabel("Size", self))
        self.filters.extra.addWidget(self.size_slider)
        self.filters.tag_split = ops.tag_splitter(",")
        self.import_panel = ImportPanel(self)
        self.grid = ThumbnailGrid(self)
        self.grid.setModel(self.model)
        self.grid.setIconSize(QSize(128, 128))
        self.pane = ImagePane(self)
        self.editor = CaptionEditor(self)
        self.summary = DatasetSummary(self)
        self.summary.setMinimumWidth(210)
        self.status = QLabel(self)
        self.status.setObjectName("datasets-status")
        self.status.setWordWrap(True)

        # Undo and redo sit under the caption editor: captions are what they take back.
        history = QHBoxLayout()
        history.setContentsMargins(0, 0, 0, 0)
        history.addWidget(self.undo_button)
        history.addWidget(self.redo_button)
        history.addStretch(1)
        editor_box = QWidget(self)
        editor_column = QVBoxLayout(editor_box)
        editor_column.setContentsMargins(0, 0, 0, 0)
        editor_column.addWidget(self.editor, 1)
        editor_column.addLayout(history)
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.pane)
        right.addWidget(editor_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        splitter = QSplitter(self)
        splitter.addWidget(self.grid)
        splitter.addWidget(right)
        splitter.addWidget(self.summary)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([430, 330, 220])
        self.title = QLabel("<h2>Datasets</h2>Drop pictures, folders or zip files on the grid to "
                            "import them; curate, crop and caption; export for training.", self)
        self.title.setWordWrap(True)
        layout = QVBoxLayout()
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(self.import_panel)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        # In a small window the page scrolls instead of forcing the window to grow.
        inner = QWidget(self)
        inner.setLayout(layout)
        scroller = QScrollArea(self)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroller)
        self._dataset_controls(False)

    def _connect(self) -> None:
        self.context.workspace_changed.connect(self.reload_influencers)
        self.influencer_box.activated.connect(self._on_influencer_activated)
        self.dataset_box.activated.connect(self._on_dataset_activated)
        self.new_button.clicked.connect(self._on_new_clicked)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.batch_button.clicked.connect(self._on_batch_clicked)
        self.autocaption_button.clicked.connect(self._on_autocaption_clicked)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action.triggered.connect(self.redo)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.size_slider.valueChanged.connect(self.grid.set_thumb_size)
        self.filters.filter_changed.connect(self._on_filter_changed)
        self.grid.paths_dropped.connect(self.import_paths)
        self.grid.selectionModel().currentChanged.connect(self._on_current_changed)
        self.pane.crop_edited.connect(self._on_crop_edited)
        self.editor.caption_edited.connect(self._on_caption_edited)
        self.editor.text.next_requested.connect(lambda: self.step(1))
        self.editor.text.previous_requested.connect(lambda: self.step(-1))
        self.editor.text.next_uncaptioned_requested.connect(self.next_uncaptioned)
        self.summary.exclude_requested.connect(self.exclude)
        self.summary.export_requested.connect(self._on_export_requested)
        self.summary.analyze_requested.connect(self.analyze)
        self.watcher.job_changed.connect(self._on_job_changed)
        self.watcher.job_finished.connect(self._on_job_finished)
        self.model.modelReset.connect(self._on_model_reset)

    def _dataset_controls(self, on: bool) -> None:
        for widget in (self.import_button, self.batch_button, self.autocaption_button, self.summary,
                       self.filters):
            widget.setEnabled(on)
        self.new_button.setEnabled(self.influencer_box.count() > 0)

    def show_message(self, text: str) -> None:
        self.status.setText(text)
        self.message_shown.emit(text)

    # Influencers and datasets ----------------------------------------------------------------

    def reload_influencers(self) -> None:
        context = self.context
        run_in_background(lambda: ops.influencer_choices(context), receiver=self,
                          on_done=self._on_influencers_loaded)

    def _on_influencers_loaded(self, choices: list[tuple[uuid.UUID, str, str]]) -> None:
        wanted = self.influencer_box.currentData()
        self.influencer_box.clear()
        for influencer_id, name, trigger in choices:
            self.influencer_box.addItem(name, (influencer_id, trigger))
        if not choices:
            self.show_message("Create an influencer first: datasets belong to one.")
        index = next((i for i in range(self.influencer_box.count())
                      if wanted and self.influencer_box.itemData(i)[0] == wanted[0]), 0)
        self.influencer_box.setCurrentIndex(index)
        self._on_influencer_activated()

    def _on_influencer_activated(self, *_: object) -> None:
        data = self.influencer_box.currentData()
        self.new_button.setEnabled(data is not None)
        if data is None:
            self.dataset_box.clear()
            self.open_dataset(None)
            return
        self.trigger = data[1]
        self.reload_datasets(data[0])

    def reload_datasets(self, influencer_id: uuid.UUID, select: uuid.UUID | None = None) -> None:
        context = self.context
        run_in_background(lambda: ops.datasets_of(context, influencer_id), receiver=self,
                          on_done=lambda found: self._on_datasets_loaded(found, select))

    def _on_datasets_loaded(self, datasets: list[Dataset], select: uuid.UUID | None) -> None:
        self.dataset_box.clear()
        for dataset in datasets:
            self.dataset_box.addItem(dataset.name, dataset)
        position = next((i for i, d in enumerate(datasets) if d.id == select), 0)
        self.dataset_box.setCurrentIndex(position if datasets else -1)
        self.open_dataset(datasets[position] if datasets else None)

    def _on_dataset_activated(self, index: int) -> None:
        dataset = self.dataset_box.itemData(index)
        if dataset is not None and (self.dataset is None or dataset.id != self.dataset.id):
            self.open_dataset(dataset)

    def open_dataset(self, dataset: Dataset | None) -> None:
        self.editor.flush()
        self.dataset = dataset
        self.editor.show_caption(None, "")
        self.pane.show_row(None, None)
        self._dataset_controls(dataset is not None)
        if dataset is None:
            self.model.set_rows([])
            self.summary.show_summary(summarize([]))
            return
        self.filters.tag_split = ops.tag_splitter(dataset.tag_separator)
        self.editor.text.separator = dataset.tag_separator
        self.refresh(reset=True)

    def _on_new_clicked(self) -> None:
        data = self.influencer_box.currentData()
        if data is None:
            return
        name, ok = QInputDialog.getText(self, "New dataset", "Name of the new dataset:")
        if ok and name.strip():
            self.create_dataset(name)

    def create_dataset(self, name: str) -> None:
        influencer_id = self.influencer_box.currentData()[0]
        context = self.context
        run_in_background(lambda: ops.create(context, influencer_id, name), receiver=self,
                          on_done=lambda created: self.reload_datasets(influencer_id, created.id),
                          on_error=lambda exc: self.show_message(str(exc)))

    # Rows ------------------------------------------------------------------------------------

    def refresh(self, *, reset: bool = False) -> None:
        """Reads the rows, then tags, undo state and checks; ``reset`` re-applies the filter."""
        dataset, context = self.dataset, self.context
        if dataset is None:
            return
        run_in_background(lambda: ops.rows_of(context, dataset), receiver=self,
                          on_done=lambda rows: self._on_rows_loaded(dataset, rows, reset))
        run_in_background(lambda: ops.extras(context, dataset), receiver=self,
                          on_done=lambda found: self._on_extras_loaded(dataset, found))

    def _is_open(self, dataset: Dataset) -> bool:
        return self.dataset is not None and dataset.id == self.dataset.id

    def _on_rows_loaded(self, dataset: Dataset, rows: list[ImageRow], reset: bool) -> None:
        if not self._is_open(dataset):
            return
        if reset or {r.id for r in rows} != {r.id for r in self.model.all_rows()}:
            self.model.set_rows(rows)
            self.dataset_loaded.emit()
        else:
            self.model.update_rows(r for r in rows if r != self.model.row(r.id))
        self.summary.show_summary(summarize(self.model.all_rows()))
        self._show_current()
        self.rows_refreshed.emit()

    def _on_extras_loaded(self, dataset: Dataset, found: ops.Extras) -> None:
        if not self._is_open(dataset):
            return
        self.editor.text.set_tags([tag for tag, _ in found.tags])
        self.filters.set_tags([tag for tag, _ in found.tags])
        self._show_history(found.history)
        self.summary.show_problems(found.problems)

    def _show_history(self, state: Any) -> None:
        for action, button, can, label, verb in (
                (self.undo_action, self.undo_button, "can_undo", "undo_label", "Undo"),
                (self.redo_action, self.redo_button, "can_redo", "redo_label", "Redo")):
            enabled = bool(getattr(state, can, False))
            text = f"{verb} {getattr(state, label, '')}".strip() if enabled else verb
            action.setEnabled(enabled)
            action.setText(text)
            button.setEnabled(enabled)
            button.setText(text if len(text) <= 22 else text[:21] + "…")
            button.setToolTip(text)

    def _on_filter_changed(self, spec: Any) -> None:
        self.editor.flush()
        self.model.set_filter(spec)

    def _on_model_reset(self) -> None:
        self.filters.count.setText(f"{self.model.rowCount()} of {self.model.total()} shown  ")
        self.show_message(f"{self.model.rowCount()} of {self.model.total()} images shown.")

    # The current image -----------------------------------------------------------------------

    def current_row(self) -> ImageRow | None:
        return self.model.row_at(self.grid.currentIndex().row())

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_current()

    def _show_current(self) -> None:
        row = self.current_row()
        source = self.context.studio.asset_path(row.storage_key) if row else None
        self.pane.show_row(row, source)
        if row is None:
            self.editor.show_caption(None, "")
        elif row.id != self.editor.image_id or not self.editor.pending():
            self.editor.show_caption(row.id, row.caption)

    def step(self, delta: int) -> None:
        count = self.model.rowCount()
        if count:
            position = min(max(self.grid.currentIndex().row() + delta, 0), count - 1)
            self.select_position(position)

    def next_uncaptioned(self) -> None:
        self.editor.flush()
        start, count = self.grid.currentIndex().row(), self.model.rowCount()
        for offset in range(1, count + 1):
            position = (start + offset) % count
            row = self.model.row_at(position)
            if row is not None and not (self._caption_of(row)).strip():
                self.select_position(position)
                return
        self.show_message("Every image shown has a caption.")

    def _caption_of(self, row: ImageRow) -> str:
        return self.editor.text.toPlainText() if row.id == self.editor.image_id else row.caption

    def select_position(self, position: int) -> None:
        index = self.model.index(position)
        self.grid.setCurrentIndex(index)
        self.grid.scrollTo(index)

    # Edits -----------------------------------------------------------------------------------

    def _on_caption_edited(self, image_id: uuid.UUID, text: str) -> None:
        self._run(ops.save_caption, image_id, text, done="")

    def _on_crop_edited(self, image_id: uuid.UUID, crop: dict) -> None:
        self._run(ops.save_crop, image_id, crop, done="Crop saved.")

    def exclude(self, image_ids: list[uuid.UUID]) -> None:
        if image_ids:
            self._run(ops.exclude, image_ids, done=f"{len(image_ids)} images excluded.")

    def undo(self) -> None:
        self.editor.flush()
        self._run(ops.undo, done="Undone: {}")

    def redo(self) -> None:
        self.editor.flush()
        self._run(ops.redo, done="Redone: {}")

    def _run(self, fn: Any, *args: Any, done: str) -> None:
        """An edit of the open dataset on the database lane, then a refresh of the rows."""
        dataset, context = self.dataset, self.context
        if dataset is None:
            return
        run_in_background(lambda: fn(context, dataset, *args), receiver=self,
                          on_done=lambda result: self._on_edited(done, result),
                          on_error=lambda exc: self.show_message(f"Not saved: {exc}"))

    def _on_edited(self, done: str, result: object) -> None:
        if done:
            self.show_message(done.format(result) if result is not None else done.split(":")[0])
        self.refresh()

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
        self._run(ops.apply, op, image_ids, done="{} captions changed.")

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [r.id for r in (self.model.row_at(p) for p in rows) if r is not None]
