"""Pick one generated picture from the gallery (newest first), e.g. the image to animate."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from studio.engine.comfyui.gallery import GalleryFilter, GalleryRow, gallery_rows
from studio.engine.db.changes import ChangeSet, Entity
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.models.gallery import GalleryModel
from studio.ui.pages import generate_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.gallery_view import GalleryGrid


class GalleryPicker(QDialog):
    rows_loaded = Signal()
    picked = Signal(object)  # Path of the chosen picture's file

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Choose a picture from the gallery")
        self.setObjectName("gallery-picker")
        self.resize(760, 520)
        self.thumbnails = ThumbnailCache(context.studio.paths.cache_dir, parent=self)
        self.model = GalleryModel(self.thumbnails, context.studio.paths.assets_dir, self, thumb_size=128)
        self.grid = GalleryGrid(self, thumb_size=128)
        self.grid.setModel(self.model)
        self.note = QLabel("Loading…", self)
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.use_button = self.buttons.addButton("Use this picture", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(False)
        self.buttons.rejected.connect(self.reject)
        self.use_button.clicked.connect(self.use_current)
        self.grid.doubleClicked.connect(lambda _: self.use_current())
        # Selection, not the current index: a list view makes its first row current on focus-in.
        self.grid.selectionModel().selectionChanged.connect(self._on_selection_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        context.live.changed.connect(self._on_changed)
        self.load()

    def load(self) -> None:
        studio, workspace_id = self.context.studio, self.context.workspace_id
        run_in_background(lambda: gallery_rows(studio, workspace_id=workspace_id, spec=GalleryFilter()),
                          receiver=self, on_done=self._on_rows,
                          on_error=lambda exc: self.note.setText(one_line(exc)))

    def _on_changed(self, changes: ChangeSet) -> None:
        """Pictures made or trashed while the picker is open (a job finishing) show at once."""
        if changes.touches(Entity.ASSET, workspace_id=self.context.workspace_id):
            self.load()

    def _on_rows(self, rows: list[GalleryRow]) -> None:
        chosen = self.chosen_row()
        self.model.set_rows(rows)
        if chosen is not None and (position := self.model.position(chosen.id)) >= 0:
            self.select_position(position)
        self.note.setText(f"{len(rows)} picture(s)." if rows else
                          "No generated pictures yet: make some on the Generate page, or choose a file.")
        self.rows_loaded.emit()

    def _on_selection_changed(self, *_: object) -> None:
        self.use_button.setEnabled(self.chosen_row() is not None)

    def chosen_row(self) -> GalleryRow | None:
        selected = self.grid.selectionModel().selectedIndexes()
        return self.model.row_at(selected[0].row()) if selected else None

    def select_position(self, position: int) -> None:
        self.grid.selectionModel().setCurrentIndex(
            self.model.index(position, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def use_current(self) -> None:
        row = self.chosen_row()
        if row is None:
            return
        context = self.context
        run_in_background(lambda: ops.input_of(context, row.id), receiver=self, lane="io",
                          on_done=self._on_file, on_error=lambda exc: self.note.setText(one_line(exc)))

    def _on_file(self, path: Path) -> None:
        self.picked.emit(path)
        self.accept()
