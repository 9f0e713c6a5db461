"""Before "Exclude blurry": the pictures it would take out, each with its sharpness score, and
the threshold to move until the list is right. Everything shown starts chosen; a click leaves a
picture out of the step.
"""
from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.engine.core import Studio
from studio.engine.datasets.analysis import BLUR_THRESHOLD
from studio.engine.datasets.curation import blurry_rows
from studio.engine.datasets.filters import ImageRow
from studio.ui.models.dataset_images import DatasetImageModel
from studio.ui.thumbnails import ThumbnailCache
from studio.ui.widgets.thumbnail_grid import ThumbnailGrid


def scored(row: ImageRow, *, size: bool = False) -> ImageRow:
    """The row as a preview names it: the sharpness score, then the size or the file name (a
    cell has room for two)."""
    score = f"{row.sharpness:.0f}" if row.sharpness is not None else "–"
    return dataclasses.replace(row, name=f"{score} · {f'{row.width}×{row.height}' if size else row.name}")


def pictures(count: int) -> str:
    return f"{count} picture{'' if count == 1 else 's'}"


def preview_grid(studio: Studio, thumbnails: ThumbnailCache, parent: QWidget, *,
                 side: int = 112) -> tuple[ThumbnailGrid, DatasetImageModel]:
    """A small grid over its own model, for dialogs; several pictures can be chosen by clicks."""
    model = DatasetImageModel(thumbnails, studio, parent)
    grid = ThumbnailGrid(parent)
    grid.setModel(model)
    grid.set_thumb_size(side)
    grid.setIconSize(QSize(side, side))
    grid.setAcceptDrops(False)
    grid.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
    return grid, model


def choose_all(grid: ThumbnailGrid, model: DatasetImageModel) -> None:
    selection = grid.selectionModel()
    selection.clearSelection()
    for position in range(model.rowCount()):
        selection.select(model.index(position), QItemSelectionModel.SelectionFlag.Select)


def chosen_ids(grid: ThumbnailGrid, model: DatasetImageModel) -> list[uuid.UUID]:
    positions = sorted(i.row() for i in grid.selectionModel().selectedIndexes())
    return [r.id for r in (model.row_at(p) for p in positions) if r is not None]


class BlurryPreview(QDialog):
    def __init__(self, rows: Sequence[ImageRow], studio: Studio, cache_dir: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Exclude blurry pictures")
        self.resize(760, 560)
        self.rows = list(rows)
        self.threshold = QSpinBox(self)
        self.threshold.setRange(0, 5000)
        self.threshold.setSingleStep(10)
        self.threshold.setValue(int(BLUR_THRESHOLD))
        self.threshold.setToolTip("Sharpness score (variance of the Laplacian): a sharp photo scores "
                                  "several hundred, a soft one under 100")
        self.grid, self.model = preview_grid(studio, ThumbnailCache(cache_dir, parent=self), self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._lay_out()
        self.threshold.valueChanged.connect(self._refill)
        self.grid.selectionModel().selectionChanged.connect(self._on_chosen)
        self._refill()

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Exclude pictures with a sharpness score under", self))
        top.addWidget(self.threshold)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.buttons)

    def _refill(self) -> None:
        self.model.set_rows([scored(r) for r in blurry_rows(self.rows, float(self.threshold.value()))])
        choose_all(self.grid, self.model)
        self._on_chosen()

    def _on_chosen(self, *_: object) -> None:
        count, shown = len(self.chosen()), self.model.rowCount()
        self.note.setText(f"{pictures(shown)} under the threshold (sharpness score · name, softest first). "
                          f"{count} chosen: click a picture to keep it. Undo brings them back.")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(f"Exclude {count}")
        ok.setEnabled(count > 0)

    def chosen(self) -> list[uuid.UUID]:
        return chosen_ids(self.grid, self.model)
