"""The Gallery tab: every generated picture, filtered, large, rated, and sent back to work.

Filters (influencer, LoRA, since, minimum rating, likeness, favourites, job) and the order (newest
or most like her first) make a ``GalleryFilter``; the
rows come from the engine on the database lane, again whenever the live state reports pictures
added, changed or trashed (by the worker, the command line or another window): at once while
the tab shows, else when it is next shown. Rating and favourite are saved as soon as they change.
Keys 1–5 rate the selected pictures and 0 clears; Delete moves them to the trash, with an Undo.
"Use as input" and "Re-run" are reported to the page, which owns the Generate tab.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.engine.comfyui.gallery import BY_IDENTITY, NEWEST, GalleryFilter, GalleryRow
from studio.engine.comfyui.identity import submit_rescore
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.types import utcnow
from studio.engine.identity.descriptors import SAME_PERSON_SCORE
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.models.gallery import GalleryModel
from studio.ui.pages import generate_ops as ops
from studio.ui.shortcuts import bind
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.timers import single_shot_timer
from studio.ui.widgets.gallery_view import GalleryGrid, ImageViewer
from studio.ui.widgets.recipe_view import RecipeDialog
from studio.ui.widgets.still_export_dialog import StillExportDialog
from studio.ui.widgets.undo_bar import UndoBar

SETTLE_MS = 150  # pictures of a batch finishing together are read once
SINCE = (("Any time", None), ("Last 24 hours", timedelta(days=1)), ("Last 7 days", timedelta(days=7)),
         ("Last 30 days", timedelta(days=30)))
LIKENESS = (("Any likeness", None), ("Looks like her", SAME_PERSON_SCORE), ("Likeness 0.6+", 0.6),
            ("Likeness 0.7+", 0.7), ("Likeness 0.8+", 0.8))
ORDERS = (("Newest first", NEWEST), ("Most like her first", BY_IDENTITY))


def index_of(box: QComboBox, value: object) -> int:
    """``findData`` by equality: Qt compares Python objects (UUIDs) by identity."""
    return next((i for i in range(box.count()) if box.itemData(i) == value), -1)


class GalleryTab(QWidget):
    rows_loaded = Signal()
    message_shown = Signal(str)
    input_chosen = Signal(object)  # Path: the picture to start an image-to-image from
    job_submitted = Signal(object)  # uuid of a re-run's job
    export_dialog_shown = Signal()
    recipe_load_requested = Signal(dict)  # a picture's recipe, for Generate's form

    def __init__(self, context: StudioContext, thumbnails: ThumbnailCache,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = GalleryModel(thumbnails, context.studio.paths.assets_dir, self)
        self.recipe_dialog: RecipeDialog | None = None
        self._stale = False
        self._saved_here: set[uuid.UUID] = set()  # ratings this tab just saved: no reload for them
        self._settle = single_shot_timer(self, interval_ms=SETTLE_MS)
        self._settle.timeout.connect(self.refresh)
        self._build()
        self._connect()
        context.live.changed.connect(self._on_changed)

    def _build(self) -> None:
        filters = self._build_filters()
        self.grid = GalleryGrid(self, thumb_size=150)
        self.grid.setModel(self.model)
        self.grid.setObjectName("gallery-grid")
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.undo_bar = UndoBar(self)
        self.undo_bar.undo_requested.connect(self._on_undo_requested)
        self._trashed: list[uuid.UUID] = []  # what Undo brings back
        splitter = QSplitter(self)
        splitter.addWidget(self.grid)
        splitter.addWidget(self._build_viewer())
        splitter.setSizes([520, 420])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.undo_bar)
        self._enable_actions(False)
        self._bind_keys()

    def _bind_keys(self) -> None:
        """On the tab, so the keys work wherever its focus is (the grid, the viewer)."""
        self.key_shortcuts = [bind(self, f"gallery.rate-{stars}", partial(self.rate_selected, stars))
                              for stars in range(1, 6)]
        self.key_shortcuts.append(bind(self, "gallery.rate-clear", partial(self.rate_selected, 0)))
        self.key_shortcuts.append(bind(self, "gallery.trash", self.trash_selected))

    def _build_filters(self) -> QHBoxLayout:
        self.influencer_box = QComboBox(self)
        self.influencer_box.addItem("All influencers", None)
        self.lora_box = QComboBox(self)
        self.lora_box.addItem("All LoRAs", None)
        self.since_box = QComboBox(self)
        for label, span in SINCE:
            self.since_box.addItem(label, span)
        self.rating_box = QComboBox(self)
        self.rating_box.addItem("Any rating", 0)
        for stars in range(1, 6):
            self.rating_box.addItem("★" * stars + (" or more" if stars < 5 else ""), stars)
        self.likeness_box = QComboBox(self)
        self.likeness_box.setToolTip("Only pictures that look like her: her identity score, 0–1 "
                                     "(0.5 and up is the same person)")
        self.order_box = QComboBox(self)
        for box, choices in ((self.likeness_box, LIKENESS), (self.order_box, ORDERS)):
            for label, value in choices:
                box.addItem(label, value)
        self.favourites = QCheckBox("Favourites", self)
        self.job_box = QComboBox(self)
        self.job_box.addItem("All jobs", None)
        self.rescore_button = QPushButton("Score again", self)
        self.rescore_button.setToolTip("Scores her pictures made before her reference faces last changed")
        self.rescore_button.setEnabled(False)  # for one influencer at a time
        self.count = QLabel(self)
        filters = QHBoxLayout()
        for widget in (self.influencer_box, self.lora_box, self.since_box, self.rating_box,
                       self.likeness_box, self.favourites, self.job_box, self.order_box):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.rescore_button)
        filters.addWidget(self.count)
        return filters

    def _build_viewer(self) -> QWidget:
        """The chosen picture, large, with what can be done with it."""
        self.viewer = ImageViewer(self)
        self.use_button = QPushButton("Use as input", self)
        self.rerun_button = QPushButton("Re-run with new seed", self)
        self.recipe_button = QPushButton("Show recipe", self)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("A copy framed for a platform, as sRGB JPEG")
        self.trash_button = QPushButton("Move to trash", self)
        actions = QHBoxLayout()
        for button in (self.use_button, self.rerun_button, self.recipe_button, self.export_button,
                       self.trash_button):
            actions.addWidget(button)
        actions.addStretch(1)
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.viewer, 1)
        column.addLayout(actions)
        return right

    def _connect(self) -> None:
        for box in (self.influencer_box, self.lora_box, self.since_box, self.rating_box, self.job_box,
                    self.likeness_box, self.order_box):
            box.activated.connect(self._on_filter_changed)
        self.favourites.toggled.connect(self._on_filter_changed)
        self.rescore_button.clicked.connect(self._on_rescore_clicked)
        self.grid.selectionModel().currentChanged.connect(self._on_current_changed)
        self.viewer.rating_changed.connect(self._on_rating_changed)
        self.viewer.favourite_changed.connect(self._on_favourite_changed)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.rerun_button.clicked.connect(self._on_rerun_clicked)
        self.recipe_button.clicked.connect(self._on_recipe_clicked)
        self.trash_button.clicked.connect(self.trash_selected)
        self.export_button.clicked.connect(self._on_export_clicked)

    def _enable_actions(self, on: bool) -> None:
        for button in (self.use_button, self.rerun_button, self.recipe_button, self.export_button,
                       self.trash_button):
            button.setEnabled(on)

    def set_influencers(self, influencers: list[ops.Influencer]) -> None:
        wanted = self.influencer_box.currentData()
        self.influencer_box.clear()
        self.influencer_box.addItem("All influencers", None)
        for influencer in influencers:
            self.influencer_box.addItem(influencer.name, influencer.id)
        self.influencer_box.setCurrentIndex(max(index_of(self.influencer_box, wanted), 0))

    # Rows ------------------------------------------------------------------------------------

    def current_filter(self) -> GalleryFilter:
        span = self.since_box.currentData()
        return GalleryFilter(influencer_id=self.influencer_box.currentData(),
                             lora=self.lora_box.currentData(), job_id=self.job_box.currentData(),
                             min_rating=int(self.rating_box.currentData() or 0),
                             favourites_only=self.favourites.isChecked(),
                             since=utcnow() - span if span else None,
                             min_identity=self.likeness_box.currentData(), sort=self.order_box.currentData())

    def show_job(self, job_id: uuid.UUID) -> None:
        if index_of(self.job_box, job_id) < 0:
            self.job_box.addItem(f"Job {str(job_id)[:8]}", job_id)
        self.job_box.setCurrentIndex(index_of(self.job_box, job_id))
        self.refresh()

    def refresh(self) -> None:
        self._stale = False
        context, spec = self.context, self.current_filter()
        run_in_background(lambda: ops.rows(context, spec), receiver=self,
                          on_done=lambda rows: self._on_rows_fetched(spec, rows),
                          on_error=lambda exc: self.show_message(f"Cannot read the gallery: {one_line(exc)}"))
        run_in_background(lambda: ops.loras(context), receiver=self, on_done=self._on_loras_fetched,
                          on_error=lambda exc: None)

    def _on_rows_fetched(self, spec: GalleryFilter, rows: list[GalleryRow]) -> None:
        current = self.current_row()
        self.model.set_rows(rows)
        self.count.setText(f"{len(rows)} picture{'s' if len(rows) != 1 else ''}")
        for job_id in dict.fromkeys(r.job_id for r in rows if r.job_id is not None):
            if index_of(self.job_box, job_id) < 0:
                self.job_box.addItem(f"Job {str(job_id)[:8]}", job_id)
        position = self.model.position(current.id) if current else -1
        self.select_position(position if position >= 0 else 0)
        self.rows_loaded.emit()

    def _on_loras_fetched(self, names: list[str]) -> None:
        wanted = self.lora_box.currentData()
        self.lora_box.clear()
        self.lora_box.addItem("All LoRAs", None)
        for name in names:
            self.lora_box.addItem(name, name)
        self.lora_box.setCurrentIndex(max(index_of(self.lora_box, wanted), 0))

    def _on_filter_changed(self, *_: object) -> None:
        self.rescore_button.setEnabled(self.influencer_box.currentData() is not None)
        self.refresh()

    def _on_rescore_clicked(self) -> None:
        context, influencer_id = self.context, self.influencer_box.currentData()
        if influencer_id is not None:
            run_in_background(lambda: submit_rescore(context.studio, context.workspace_id, influencer_id),
                              receiver=self, on_done=lambda job: self.show_message(f"{job.title}: queued."),
                              on_error=lambda exc: self.show_message(f"Cannot score them: {one_line(exc)}"))

    def _on_changed(self, changes: ChangeSet) -> None:
        if not changes.touches(Entity.ASSET, workspace_id=self.context.workspace_id):
            return
        changed = changes.ids(Entity.ASSET)
        if changed and changed <= self._saved_here:
            self._saved_here -= changed  # this tab's own rating: the row is updated already
            return
        if self.isVisible():
            self._settle.start()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()

    def show_message(self, text: str) -> None:
        self.message_shown.emit(text)

    # The current picture ---------------------------------------------------------------------

    def current_row(self) -> GalleryRow | None:
        return self.model.row_at(self.grid.currentIndex().row())

    def select_position(self, position: int) -> None:
        index = self.model.index(position)
        self.grid.setCurrentIndex(index)
        if not index.isValid():
            self._show_current()

    def selected_rows(self) -> list[GalleryRow]:
        """The selected pictures in grid order; the current one when none is selected."""
        positions = sorted({index.row() for index in self.grid.selectionModel().selectedIndexes()})
        rows = [row for row in map(self.model.row_at, positions) if row is not None]
        current = self.current_row()
        return rows or ([current] if current is not None else [])

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_current()

    def _show_current(self) -> None:
        row = self.current_row()
        self.viewer.show_row(row, self.context.studio.asset_path(row.storage_key) if row else None)
        self._enable_actions(row is not None)

    def rate_selected(self, stars: int) -> None:
        for row in self.selected_rows():
            self._on_rating_changed(row.id, stars)

    def _on_rating_changed(self, asset_id: uuid.UUID, rating: int) -> None:
        self._save(ops.set_rating, asset_id, rating, rating=rating)

    def _on_favourite_changed(self, asset_id: uuid.UUID, on: bool) -> None:
        self._save(ops.set_favourite, asset_id, on, favourite=on)

    def _save(self, fn: Any, asset_id: uuid.UUID, value: object, **change: Any) -> None:
        context = self.context
        self._saved_here.add(asset_id)
        run_in_background(lambda: fn(context, asset_id, value), receiver=self,
                          on_done=lambda _: self._on_saved(asset_id, change),
                          on_error=lambda exc: self.show_message(f"Not saved: {one_line(exc)}"))

    def _on_saved(self, asset_id: uuid.UUID, change: dict[str, Any]) -> None:
        row = self.model.update_row(asset_id, **change)
        if row is not None:
            self.viewer.set_row(row)

    def _on_use_clicked(self) -> None:
        row, context = self.current_row(), self.context
        if row is not None:
            run_in_background(lambda: ops.input_of(context, row.id), receiver=self, lane="io",
                              on_done=self.input_chosen.emit,
                              on_error=lambda exc: self.show_message(one_line(exc)))

    def _on_export_clicked(self) -> None:
        row, context = self.current_row(), self.context
        if row is not None:
            run_in_background(lambda: ops.still_export_choices(context, row.id), receiver=self,
                              lane="io", on_done=self._open_export,
                              on_error=lambda exc: self.show_message(one_line(exc)))

    def _open_export(self, choices: ops.StillExportChoices) -> None:
        self.export_dialog = StillExportDialog(choices.source, choices.presets, choices.folder, self)
        self.export_dialog.exported.connect(
            lambda result: self.show_message(f"Exported {result.path.name}."))
        self.export_dialog.open()
        self.export_dialog_shown.emit()

    def _on_rerun_clicked(self) -> None:
        row, context = self.current_row(), self.context
        if row is not None:
            run_in_background(lambda: ops.rerun(context, row.id), receiver=self,
                              on_done=self.job_submitted.emit,
                              on_error=lambda exc: self.show_message(f"Cannot re-run: {one_line(exc)}"))

    def _on_recipe_clicked(self) -> None:
        row, context = self.current_row(), self.context
        if row is not None:
            run_in_background(lambda: ops.recipe(context, row.id), receiver=self,
                              on_done=lambda recipe: self._on_recipe_fetched(recipe, row),
                              on_error=lambda exc: self.show_message(one_line(exc)))

    def _on_recipe_fetched(self, recipe: dict[str, Any], row: GalleryRow | None = None) -> None:
        if self.recipe_dialog is not None:
            self.recipe_dialog.close()
        identity = {"score": row.identity, "note": row.identity_note} if row and (
            row.identity is not None or row.identity_note) else None
        self.recipe_dialog = RecipeDialog(recipe, self, identity=identity)
        self.recipe_dialog.load_requested.connect(self.recipe_load_requested)
        self.recipe_dialog.show()

    def trash_selected(self) -> None:
        rows, context = self.selected_rows(), self.context
        if rows:
            run_in_background(lambda: trash_images(context, [row.id for row in rows]), receiver=self,
                              on_done=lambda _: self._on_trashed(rows),
                              on_error=lambda exc: self.show_message(f"Not moved: {one_line(exc)}"))

    def _on_trashed(self, rows: list[GalleryRow]) -> None:
        self._trashed = [row.id for row in rows]
        text = f"{rows[0].name} moved" if len(rows) == 1 else f"{len(rows)} pictures moved"
        self.show_message(f"{text} to the trash.")  # the live change reloads the rows
        self.undo_bar.offer(f"{text} to the trash.")

    def _on_undo_requested(self) -> None:
        ids, context = self._trashed, self.context
        self._trashed = []
        run_in_background(lambda: restore_images(context, ids), receiver=self,
                          on_done=lambda _: self.show_message(
                              f"Brought back {len(ids)} picture{'s' if len(ids) > 1 else ''}."),
                          on_error=lambda exc: self.show_message(f"Not restored: {one_line(exc)}"))


def trash_images(context: StudioContext, asset_ids: list[uuid.UUID]) -> None:
    for asset_id in asset_ids:
        ops.trash(context, asset_id)


def restore_images(context: StudioContext, asset_ids: list[uuid.UUID]) -> None:
    """Out of the trash again (Decision 1: trashed content can be restored)."""
    from studio.engine.trash import TrashItem, restore
    for asset_id in asset_ids:
        restore(context.studio, context.workspace_id, TrashItem("asset", asset_id, "", None))
