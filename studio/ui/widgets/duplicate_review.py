"""Before "Exclude near-duplicates": each group side by side with the picture it keeps chosen
(upright, largest, sharpest); a click on another picture keeps that one instead. All the others
of every group are excluded as one step that Undo takes back.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.engine.core import Studio
from studio.engine.datasets.curation import DuplicateGroup
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.exclude_preview import pictures, preview_grid, scored
from studio.ui.widgets.thumbnail_grid import ThumbnailGrid

SHOWN_GROUPS = 60  # more would make the dialog slow to open; the rest keep their default keeper
SIDE = 112


class DuplicateReview(QDialog):
    def __init__(self, groups: Sequence[DuplicateGroup], studio: Studio, cache_dir: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review near-duplicates")
        self.resize(820, 600)
        self.groups = list(groups)
        self.keepers = {g.number: g.keeper for g in self.groups}
        self._strips: list[tuple[DuplicateGroup, ThumbnailGrid, DatasetImageModel]] = []
        thumbnails = ThumbnailCache(cache_dir, parent=self)
        column = QWidget(self)
        strips = QVBoxLayout(column)
        for group in self.groups[:SHOWN_GROUPS]:
            strips.addWidget(QLabel(f"<b>Group {group.number}</b> · {pictures(len(group.members))}", column))
            strips.addWidget(self._strip(group, studio, thumbnails, column))
        strips.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(column)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self._on_keeper_changed()

    def _strip(self, group: DuplicateGroup, studio: Studio, thumbnails: ThumbnailCache,
               parent: QWidget) -> ThumbnailGrid:
        grid, model = preview_grid(studio, thumbnails, parent, side=SIDE)
        grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        grid.setFlow(QListView.Flow.LeftToRight)
        grid.setWrapping(False)
        grid.setFixedHeight(SIDE + 48)
        model.set_rows([scored(r, size=True) for r in group.members])
        grid.selectionModel().select(model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        grid.selectionModel().selectionChanged.connect(lambda *_: self._pick(group, grid, model))
        self._strips.append((group, grid, model))
        return grid

    def _pick(self, group: DuplicateGroup, grid: ThumbnailGrid, model: DatasetImageModel) -> None:
        chosen = grid.selectionModel().selectedIndexes()
        row = model.row_at(chosen[0].row()) if chosen else None
        if row is None:  # a click on the kept picture unselects it: it stays the keeper
            position = model.position(self.keepers[group.number])
            grid.selectionModel().select(model.index(position), QItemSelectionModel.SelectionFlag.Select)
            return
        self.keepers[group.number] = row.id
        self._on_keeper_changed()

    def keep(self, group_number: int, image_id: uuid.UUID) -> None:
        """Chooses the picture a group keeps, as a click on it does."""
        for group, grid, model in self._strips:
            if group.number == group_number:
                grid.selectionModel().select(model.index(model.position(image_id)),
                                             QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def to_exclude(self) -> list[uuid.UUID]:
        return [r.id for g in self.groups for r in g.members
                if r.id != self.keepers[g.number] and not r.excluded]

    def _on_keeper_changed(self) -> None:
        count = len(self.to_exclude())
        hidden = len(self.groups) - SHOWN_GROUPS
        self.note.setText(
            f"Near-duplicates in {len(self.groups)} group{'' if len(self.groups) == 1 else 's'} (sharpness "
            "score · size). The highlighted picture of each group is kept; click another to keep it instead. "
            f"{pictures(count)} will be excluded; "
            "Undo brings them back." + (f" {hidden} more groups keep their default." if hidden > 0 else ""))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(f"Exclude {count}")
        ok.setEnabled(count > 0)
