"""Which dataset the Datasets page shows: an influencer box, a dataset box and "New dataset…".

The picker follows the live state: influencers and datasets made, renamed or removed anywhere
(this window, the command line, a worker, another desk) are read again, and the dataset that
is open stays open unless it is gone. It says what to show through two signals.
"""
from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QLabel, QPushButton, QWidget

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import Dataset
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.pages import dataset_ops as ops
from studio.ui.tasks import run_in_background


class DatasetPicker(QWidget):
    dataset_opened = Signal(object)  # Dataset | None: show this one from the start
    dataset_updated = Signal(object)  # Dataset: a fresher copy of the one shown
    message_shown = Signal(str)

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.open_id: uuid.UUID | None = None
        self.influencer_box = QComboBox(self)
        self.influencer_box.setMinimumWidth(160)
        self.dataset_box = QComboBox(self)
        self.dataset_box.setMinimumWidth(160)
        self.new_button = QPushButton("New dataset…", self)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Influencer", self), self.influencer_box, QLabel("Dataset", self),
                       self.dataset_box, self.new_button):
            row.addWidget(widget)
        self.influencer_box.activated.connect(self._on_influencer_activated)
        self.dataset_box.activated.connect(self._on_dataset_activated)
        self.new_button.clicked.connect(self._on_new_clicked)
        context.workspace_changed.connect(self.reload_influencers)
        context.live.changed.connect(self._on_live_changed)

    @property
    def trigger(self) -> str:
        data = self.influencer_box.currentData()
        return data[1] if data is not None else ""

    def _on_live_changed(self, changes: ChangeSet) -> None:
        workspace_id = self.context.workspace_id
        if changes.touches(Entity.INFLUENCER, workspace_id=workspace_id):
            self.reload_influencers()  # and the datasets of the one shown
        elif changes.touches(Entity.DATASET, workspace_id=workspace_id):
            data = self.influencer_box.currentData()
            if data is not None:
                self.reload_datasets(data[0])

    # Influencers -----------------------------------------------------------------------------

    def reload_influencers(self) -> None:
        context = self.context
        run_in_background(lambda: ops.influencer_choices(context), receiver=self,
                          on_done=self._on_influencers_loaded)

    def _on_influencers_loaded(self, choices: list[tuple[uuid.UUID, str, str]]) -> None:
        wanted = self.influencer_box.currentData() or (self._last("influencer"), "")
        self.influencer_box.clear()
        for influencer_id, name, trigger in choices:
            self.influencer_box.addItem(name, (influencer_id, trigger))
        if not choices:
            self.message_shown.emit("Create an influencer first: datasets belong to one.")
        index = next((i for i in range(self.influencer_box.count())
                      if self.influencer_box.itemData(i)[0] == wanted[0]), 0)
        self.influencer_box.setCurrentIndex(index)
        self._on_influencer_activated()

    def _on_influencer_activated(self, *_: object) -> None:
        data = self.influencer_box.currentData()
        self.new_button.setEnabled(data is not None)
        if data is None:
            self.dataset_box.clear()
            self._open(None)
            return
        self.reload_datasets(data[0])

    # Datasets --------------------------------------------------------------------------------

    def reload_datasets(self, influencer_id: uuid.UUID, select: uuid.UUID | None = None) -> None:
        context = self.context
        run_in_background(lambda: ops.datasets_of(context, influencer_id), receiver=self,
                          on_done=lambda found: self._on_datasets_loaded(found, select))

    def _on_datasets_loaded(self, datasets: list[Dataset], select: uuid.UUID | None) -> None:
        """``select`` opens that dataset; without it the open one stays open, unread again."""
        open_id = self.open_id
        wanted = select or open_id or self._last("dataset")
        self.dataset_box.clear()
        for dataset in datasets:
            self.dataset_box.addItem(dataset.name, dataset)
        position = next((i for i, d in enumerate(datasets) if d.id == wanted), 0)
        self.dataset_box.setCurrentIndex(position if datasets else -1)
        chosen = datasets[position] if datasets else None
        if chosen is not None and chosen.id == open_id and select is None:
            self.dataset_updated.emit(chosen)
        else:
            self._open(chosen)

    def _on_dataset_activated(self, index: int) -> None:
        dataset = self.dataset_box.itemData(index)
        if dataset is not None and dataset.id != self.open_id:
            self._open(dataset)

    def _open(self, dataset: Dataset | None) -> None:
        self.open_id = dataset.id if dataset is not None else None
        if dataset is not None:  # the page opens on it next time (studio.ui.ui_state)
            self.context.remember(f"datasets/last/{self.context.workspace_id}",
                                  {"influencer": str(dataset.influencer_id), "dataset": str(dataset.id)})
        self.dataset_opened.emit(dataset)

    def _last(self, what: str) -> uuid.UUID | None:
        """The influencer or dataset open when the page was last left, in this workspace."""
        last = self.context.recall(f"datasets/last/{self.context.workspace_id}", {})
        try:
            return uuid.UUID(str(last.get(what)))
        except ValueError:
            return None

    def _on_new_clicked(self) -> None:
        if self.influencer_box.currentData() is None:
            return
        name, ok = QInputDialog.getText(self, "New dataset", "Name of the new dataset:")
        if ok and name.strip():
            self.create_dataset(name)

    def create_dataset(self, name: str) -> None:
        influencer_id = self.influencer_box.currentData()[0]
        context = self.context
        run_in_background(lambda: ops.create(context, influencer_id, name), receiver=self,
                          on_done=lambda created: self.reload_datasets(influencer_id, created.id),
                          on_error=lambda exc: self.message_shown.emit(one_line(exc)))
