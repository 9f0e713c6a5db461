"""The Influencers page's reference faces: what "her" face is, which every picture is scored
against. Lists them (face crop, source, name); adds a picture file, removes one, or goes back to
the automatic choice (the largest cluster of faces in her datasets).

Every read and write runs on a background lane; a change made elsewhere (an analysis in auto
mode, the command line) reaches the box through the live state.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import DatasetImage
from studio.engine.identity.references import (
    add_file_reference,
    add_portrait_reference,
    identity_of,
    remove_reference,
    use_largest_cluster,
)
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.face_crops import FaceSpot, face_crops
from studio.ui.tasks import run_in_background

CROP = 48
SOURCES = {"portrait": "her portrait", "image": "dataset picture", "file": "picture file",
           "cluster": "largest face cluster"}
NONE_YET = "No reference faces yet: analyse a dataset of her, or add a picture."


@dataclass(frozen=True, slots=True)
class ReferenceFaces:
    influencer_id: uuid.UUID
    auto: bool
    references: tuple[dict[str, Any], ...]
    crops: tuple[QImage | None, ...]  # per reference; None where no picture of it is kept


def load_references(studio: Studio, influencer_id: uuid.UUID) -> ReferenceFaces:
    """Blocking: her references as stored, each with a crop of its face where a picture has it."""
    identity = identity_of(studio, influencer_id)
    references = tuple(identity["references"])
    spots = _spots(studio, references)
    crops = face_crops(studio.paths.cache_dir, [s for s in spots if s is not None], CROP)
    found = iter(crops)
    return ReferenceFaces(influencer_id=influencer_id, auto=bool(identity["auto"]), references=references,
                          crops=tuple(next(found) if spot is not None else None for spot in spots))


def _spots(studio: Studio, references: tuple[dict[str, Any], ...]) -> list[FaceSpot | None]:
    """Where each dataset-picture reference's face is: the face whose descriptor it holds."""
    ids = {uuid.UUID(str(r["image_id"])) for r in references if r.get("image_id")}
    with studio.db.session() as session:
        images = {i.id: i for i in session.scalars(select(DatasetImage).where(DatasetImage.id.in_(ids)))} if ids else {}
    spots: list[FaceSpot | None] = []
    for reference in references:
        image = images.get(uuid.UUID(str(reference["image_id"]))) if reference.get("image_id") else None
        faces = list(image.faces or []) if image is not None else []
        if image is None or not faces:
            spots.append(None)
            continue
        stored = list(image.face_descriptors or [])
        face = stored.index(reference.get("descriptor")) if reference.get("descriptor") in stored else 0
        box = tuple(int(v) for v in faces[min(face, len(faces) - 1)][:4])
        spots.append(FaceSpot(sha256=image.sha256, source=studio.asset_path(image.storage_key),
                              width=image.width or 0, box=(box[0], box[1], box[2], box[3])))
    return spots


def summary_line(faces: ReferenceFaces) -> str:
    count = len(faces.references)
    if not count:
        return NONE_YET
    noun = f"{count} reference face" + ("" if count == 1 else "s")
    if faces.auto:
        return f"{noun}, automatic: the largest cluster of faces in her datasets."
    return f"{noun}, chosen by you."


class ReferenceBox(QGroupBox):
    """Shown under the persona; ``show_influencer`` follows the page's choice."""

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__("Reference faces", parent)
        self.context = context
        self.influencer_id: uuid.UUID | None = None
        self.faces: ReferenceFaces | None = None
        self._no_picture = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)  # a file: not kept
        self.line = QLabel(NONE_YET, self)
        self.line.setWordWrap(True)
        self.line.setObjectName("references-line")
        self.list = _face_strip(self)
        self.list.currentRowChanged.connect(lambda _row: self._enable())
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.line)
        layout.addWidget(self.list)
        layout.addLayout(self._build_buttons())
        layout.addWidget(self.message)
        context.live.changed.connect(self._on_live_changed)
        self._enable()

    def _build_buttons(self) -> QHBoxLayout:
        self.add_button = QPushButton("Add picture…", self)
        self.add_button.setToolTip("Her face in a picture file becomes a reference (only its description is kept)")
        self.portrait_button = QPushButton("Add her portrait", self)
        self.portrait_button.setToolTip("The face in her portrait (Choose portrait…) becomes a reference")
        self.remove_button = QPushButton("Remove", self)
        self.auto_button = QPushButton("Use the largest face cluster (automatic)", self)
        self.auto_button.setToolTip("Her references follow the largest group of faces in her datasets, "
                                    "found again after each analysis")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.portrait_button.clicked.connect(
            lambda: self._write(add_portrait_reference, "Her portrait added to her reference faces."))
        self.auto_button.clicked.connect(lambda: self._write(use_largest_cluster, "Back to automatic references."))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.portrait_button, self.remove_button, self.auto_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        return buttons

    def show_influencer(self, influencer_id: uuid.UUID | None) -> None:
        if influencer_id != self.influencer_id:
            self.faces = None
            self.list.clear()
            self.message.clear()
        self.influencer_id = influencer_id
        self.line.setText(NONE_YET if influencer_id is not None else "Save the influencer first.")
        self._enable()
        self.reload()

    def reload(self) -> None:
        influencer_id, studio = self.influencer_id, self.context.studio
        if influencer_id is not None:
            run_in_background(lambda: load_references(studio, influencer_id), receiver=self,
                              lane="io", on_done=self._on_loaded,
                              on_error=lambda exc: self.message.setText(one_line(exc)))

    def _on_loaded(self, faces: ReferenceFaces) -> None:
        if faces.influencer_id != self.influencer_id:
            return
        self.faces = faces
        self.line.setText(summary_line(faces))
        self.list.clear()
        for reference, crop in zip(faces.references, faces.crops, strict=True):
            source = SOURCES.get(str(reference.get("source")), str(reference.get("source")))
            item = QListWidgetItem(f"{reference.get('name') or '(unnamed)'}\n{source}")
            item.setToolTip(item.text())
            item.setIcon(QIcon(QPixmap.fromImage(crop)) if crop is not None else self._no_picture)
            self.list.addItem(item)
        self._enable()

    def _enable(self) -> None:
        chosen = self.influencer_id is not None
        self.add_button.setEnabled(chosen)
        self.portrait_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen and self.list.currentRow() >= 0)
        self.auto_button.setEnabled(chosen and not (self.faces is not None and self.faces.auto))

    def choose_file(self) -> Path | None:
        """Separate so that tests can choose instead of a user."""
        chosen, _ = QFileDialog.getOpenFileName(self, "A picture of her face", "",
                                                "Pictures (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff)")
        return Path(chosen) if chosen else None

    def _on_add_clicked(self) -> None:
        path = self.choose_file()
        if path is not None:
            self._write(lambda studio, influencer_id: add_file_reference(studio, influencer_id, path),
                        f"{path.name} added to her reference faces.")

    def _on_remove_clicked(self) -> None:
        index = self.list.currentRow()
        if index >= 0:
            self._write(lambda studio, influencer_id: remove_reference(studio, influencer_id, index),
                        "Reference face removed.")

    def _write(self, fn: Any, done: str) -> None:
        """One engine call; her datasets are compared with the new references meanwhile."""
        influencer_id, studio = self.influencer_id, self.context.studio
        if influencer_id is None:
            return
        self.message.setText("Comparing her pictures with the new references…")
        for button in (self.add_button, self.portrait_button, self.remove_button, self.auto_button):
            button.setEnabled(False)
        run_in_background(lambda: fn(studio, influencer_id), receiver=self,
                          on_done=lambda result: self._on_written(done, result),
                          on_error=self._on_write_failed)

    def _on_written(self, done: str, result: object) -> None:
        note = str(getattr(result, "note", "") or "")
        self.message.setText(f"{done} {note}".strip())
        self.reload()

    def _on_write_failed(self, exc: BaseException) -> None:
        self.message.setText(one_line(exc))
        self._enable()

    def _on_live_changed(self, changes: ChangeSet) -> None:
        if self.influencer_id is not None and changes.touches(Entity.INFLUENCER,
                                                              workspace_id=self.context.workspace_id):
            self.reload()


def _face_strip(parent: QWidget) -> QListWidget:
    """The faces side by side, name and source under each, wrapping onto a second row."""
    strip = QListWidget(parent)
    strip.setViewMode(QListWidget.ViewMode.IconMode)
    strip.setFlow(QListWidget.Flow.LeftToRight)
    strip.setWrapping(True)
    strip.setResizeMode(QListWidget.ResizeMode.Adjust)
    strip.setMovement(QListWidget.Movement.Static)
    strip.setWordWrap(True)
    strip.setIconSize(QSize(CROP, CROP))
    strip.setGridSize(QSize(140, CROP + 44))
    strip.setMinimumHeight(CROP + 52)
    strip.setMaximumHeight(2 * (CROP + 44) + 8)
    return strip
