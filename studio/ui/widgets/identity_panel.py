"""The faces of one dataset grouped by person (face clusters), largest first: a row of face
crops per cluster, with "This is her" (the cluster becomes her reference faces), "Exclude these
pictures" and "Show" (the grid shows that cluster alone).

Clusters and crops are read on a background lane; the panel reads them again when the live
state reports pictures or influencers changed (a new analysis, new references elsewhere).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.datasets.filters import image_rows
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import Dataset, DatasetImage
from studio.engine.identity.dataset import clusters
from studio.engine.identity.references import references_of, use_dataset_cluster
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.face_crops import FaceSpot, face_crops
from studio.ui.tasks import run_in_background

CROP = 64  # pixels per face shown
FACES_SHOWN = 10  # per cluster; the count says how many more
CLUSTERS_SHOWN = 24  # the rest are single strangers, counted in the heading


@dataclass(frozen=True, slots=True)
class ClusterView:
    number: int  # 1 = the largest
    size: int  # faces
    image_ids: tuple[uuid.UUID, ...]  # the pictures with a face in it, in import order
    crops: tuple[QImage | None, ...]  # the first faces
    references: int = 0  # of her reference faces, how many are in this cluster's pictures


@dataclass(frozen=True, slots=True)
class Clusters:
    shown: tuple[ClusterView, ...]
    total: int  # clusters found, shown or not


def load_clusters(studio: Studio, dataset: Dataset) -> Clusters:
    """Blocking: the dataset's face clusters with crops of their first faces."""
    found = clusters(studio, dataset.id)
    wanted = {image_id for cluster in found[:CLUSTERS_SHOWN] for image_id, _ in cluster.members[:FACES_SHOWN]}
    rows = {r.id: r for r in image_rows(studio, workspace_id=dataset.workspace_id, dataset_id=dataset.id,
                                        image_ids=wanted)}
    hers = reference_faces(studio, references_of(studio, dataset.influencer_id))
    views = []
    for cluster in found[:CLUSTERS_SHOWN]:
        spots = [FaceSpot(sha256=row.sha256, source=studio.asset_path(row.storage_key), width=row.width,
                          box=row.faces[face])
                 for image_id, face in cluster.members[:FACES_SHOWN]
                 if (row := rows.get(image_id)) is not None and face < len(row.faces)]
        ids = tuple(dict.fromkeys(image_id for image_id, _ in cluster.members))
        views.append(ClusterView(number=cluster.number, size=cluster.size, image_ids=ids,
                                 crops=tuple(face_crops(studio.paths.cache_dir, spots, CROP)),
                                 references=sum(member in hers for member in cluster.members)))
    return Clusters(shown=tuple(views), total=len(found))


def reference_faces(studio: Studio, references: list[dict[str, Any]]) -> set[tuple[uuid.UUID, int]]:
    """Blocking: (picture, face index) of each reference taken from a dataset picture."""
    wanted: dict[uuid.UUID, set[str]] = {}
    for reference in references:
        if reference.get("image_id"):
            wanted.setdefault(uuid.UUID(str(reference["image_id"])), set()).add(str(reference.get("descriptor")))
    if not wanted:
        return set()
    query = select(DatasetImage.id, DatasetImage.face_descriptors).where(DatasetImage.id.in_(list(wanted)))
    with studio.db.session() as session:
        return {(image_id, index) for image_id, stored in session.execute(query)
                for index, text in enumerate(stored or []) if text in wanted[image_id]}


class ClusterRow(QFrame):
    """One cluster: its title, its faces and its three actions."""

    def __init__(self, view: ClusterView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName(f"cluster-{view.number}")
        pictures = len(view.image_ids)
        title = f"<b>Cluster {view.number}</b> · {view.size} face{'s' if view.size != 1 else ''} in " \
                f"{pictures} picture{'s' if pictures != 1 else ''}"
        if view.references:
            title += " · <b>her reference faces</b>"
        self.title = QLabel(title, self)
        self.her_button = QPushButton("This is her", self)
        self.her_button.setToolTip("These faces become her reference faces (what every picture is compared with)")
        self.exclude_button = QPushButton("Exclude these pictures", self)
        self.exclude_button.setToolTip("Excludes every picture with a face in this cluster; Undo brings them back")
        self.show_button = QPushButton("Show", self)
        self.show_button.setToolTip("The grid shows only these pictures")
        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        for button in (self.her_button, self.exclude_button, self.show_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(buttons)
        layout.addLayout(self._faces())

    def _faces(self) -> QHBoxLayout:
        faces = QHBoxLayout()
        faces.setSpacing(4)
        for crop in self.view.crops:
            label = QLabel(self)
            label.setFixedSize(CROP, CROP)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if crop is None:
                label.setText("?")
                label.setToolTip("This picture cannot be read")
            else:
                label.setPixmap(QPixmap.fromImage(crop))
            faces.addWidget(label)
        more = self.view.size - len(self.view.crops)
        if more > 0:
            faces.addWidget(QLabel(f"+{more} more", self))
        faces.addStretch(1)
        return faces


class IdentityPanel(QDialog):
    """Opened from the Datasets page's summary (Faces…); stays open beside the grid."""

    cluster_shown = Signal(int)  # the grid shows this cluster alone
    exclusion_requested = Signal(list, str)  # picture ids, what the step is called in the history
    references_changed = Signal()

    def __init__(self, context: StudioContext, dataset: Dataset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.dataset = context, dataset
        self.rows: list[ClusterRow] = []
        self._reading = self._again = self._stale = False
        self.setWindowTitle(f"Faces in {dataset.name}")
        self.heading = QLabel("Reading the faces…", self)
        self.heading.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.list = QWidget(self)
        self.column = QVBoxLayout(self.list)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.addStretch(1)
        scroller = QScrollArea(self)
        scroller.setWidgetResizable(True)
        scroller.setWidget(self.list)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scroller, 1)
        layout.addWidget(self.message)
        self.resize(760, 560)
        context.live.changed.connect(self._on_live_changed)
        self.reload()

    def reload(self) -> None:
        """Reads the clusters; asks while a read is out make one more read after it, and asks
        while the panel is closed one read when it is shown again."""
        if not self.isVisible() and self.rows:
            self._stale = True
            return
        if self._reading:
            self._again = True
            return
        self._reading = True
        studio, dataset = self.context.studio, self.dataset
        run_in_background(lambda: load_clusters(studio, dataset), receiver=self, lane="io",
                          on_done=self._on_loaded, on_error=self._on_failed)

    def _on_loaded(self, found: Clusters) -> None:
        self._read_done()
        for row in self.rows:
            self.column.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for view in found.shown:
            self.rows.append(self._add_row(view))
        faces = sum(view.size for view in found.shown)
        if not found.total:
            self.heading.setText("No faces grouped yet: analyse the dataset (faces are compared once found).")
            return
        rest = found.total - len(found.shown)
        self.heading.setText(f"{found.total} cluster{'s' if found.total != 1 else ''} of faces, largest first"
                             + (f" ({faces} faces shown; {rest} smaller clusters not shown)" if rest else "")
                             + ". Each cluster is one person as the face model sees it.")

    def _add_row(self, view: ClusterView) -> ClusterRow:
        row = ClusterRow(view, self.list)
        row.her_button.clicked.connect(lambda: self.choose(view.number))
        row.exclude_button.clicked.connect(lambda: self.exclusion_requested.emit(
            list(view.image_ids), f"Exclude face cluster {view.number}"))
        row.show_button.clicked.connect(lambda: self.cluster_shown.emit(view.number))
        self.column.insertWidget(len(self.rows), row)
        return row

    def _on_failed(self, exc: BaseException) -> None:
        self._read_done()
        self.heading.setText(f"Cannot read the faces: {one_line(exc)}")

    def _read_done(self) -> None:
        self._reading = False
        if self._again:
            self._again = False
            self.reload()

    def choose(self, number: int) -> None:
        """Cluster ``number`` becomes her chosen reference faces (her datasets are judged again)."""
        studio, dataset = self.context.studio, self.dataset
        self.message.setText(f"Making cluster {number} her reference faces…")
        run_in_background(lambda: use_dataset_cluster(studio, dataset.influencer_id, dataset.id, number=number),
                          receiver=self, on_done=lambda refs: self._on_chosen(number, refs),
                          on_error=lambda exc: self.message.setText(one_line(exc)))

    def _on_chosen(self, number: int, references: list) -> None:
        self.message.setText(f"Cluster {number} is her now: {len(references)} reference faces. "
                             "Every picture was compared with them again.")
        self.references_changed.emit()
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()

    def _on_live_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.IMAGE, Entity.INFLUENCER, workspace_id=self.context.workspace_id):
            self.reload()
