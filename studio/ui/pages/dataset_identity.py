"""The Datasets page's identity actions: the summary's Show and Exclude per identity flag, the
picture pane's reference face, and the Faces… panel of face clusters.

``DatasetIdentity`` is a collaborator the page's curation owns. Exclusions are steps of the
dataset's history (Undo brings the pictures back); reference changes go through the engine,
which compares her pictures with the new references (the live state then reads them again).
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.db.models import Dataset
from studio.engine.identity.dataset import exclude_flagged
from studio.engine.identity.references import add_image_reference, references_of, remove_reference
from studio.ui.errors import one_line
from studio.ui.tasks import run_in_background
from studio.ui.widgets.dataset_summary import IDENTITY_FLAGS
from studio.ui.widgets.identity_panel import IdentityPanel

if TYPE_CHECKING:
    from studio.ui.pages.datasets import DatasetsPage

WORDS = {flag: word for flag, _title, word in IDENTITY_FLAGS}


class DatasetIdentity(QObject):
    def __init__(self, page: DatasetsPage) -> None:
        super().__init__(page)
        self.page = page
        self.panel: IdentityPanel | None = None
        page.summary.flag_shown.connect(self.show_flag)
        page.summary.flag_exclusion_requested.connect(self.exclude_flag)
        page.summary.faces_requested.connect(self.open_faces)
        page.pane.reference_requested.connect(self.set_reference)
        page.dataset_loaded.connect(self.load_references)
        page.picker.dataset_opened.connect(self._on_dataset_opened)
        page.context.live.changed.connect(self._on_live_changed)

    def _on_dataset_opened(self, dataset: Dataset | None) -> None:
        """Face clusters are numbered per dataset: another dataset drops the cluster shown and
        closes the panel of the one before."""
        if self.page.filters.cluster:
            self.page.filters.set_cluster(0)
        if self.panel is not None and (dataset is None or self.panel.dataset.id != dataset.id):
            self.panel.close()

    def show_flag(self, flag: str) -> None:
        """The grid shows the pictures with this flag that are still in (as the count says)."""
        self.page.filters.set_value("excluded", "hide")
        self.page.filters.set_value("identity", flag)

    def exclude_flag(self, flag: str) -> None:
        """One undoable step; the bar under the grid offers to bring exactly these back."""
        page, dataset = self.page, self.page.dataset
        if dataset is None:
            return
        page.editor.flush()
        studio = page.context.studio
        still_in = list(page.summary.summary.flagged[[f for f, _t, _w in IDENTITY_FLAGS].index(flag)])
        run_in_background(lambda: exclude_flagged(studio, dataset.id, flag), receiver=self,
                          on_done=lambda count: self._on_excluded(flag, count, still_in),
                          on_error=lambda exc: page.show_message(f"Not excluded: {one_line(exc)}"))

    def _on_excluded(self, flag: str, count: int, ids: list[uuid.UUID]) -> None:
        noun = "picture" if count == 1 else "pictures"
        self.exclude_offered(ids, f"{count} {WORDS.get(flag, flag)} {noun} excluded.")
        self.page.refresh()

    def exclude_cluster(self, ids: list[uuid.UUID], label: str) -> None:
        rows = [r for r in (self.page.model.row(i) for i in ids) if r is not None and not r.excluded]
        self.page.edits.set_excluded([r.id for r in rows], True, label)
        count = len(rows)
        self.exclude_offered([r.id for r in rows], f"{count} picture{'' if count == 1 else 's'} excluded.")

    def exclude_offered(self, ids: list[uuid.UUID], text: str) -> None:
        """Undo on the bar brings back these pictures (and only these, whatever was edited since)."""
        edits = self.page.edits
        self.page.curation.offer_undo(text, lambda: edits.set_excluded(ids, False, "Bring back"))

    # Reference faces -------------------------------------------------------------------------

    def load_references(self) -> None:
        """Which pictures of the open dataset hold one of her reference faces, for the pane."""
        dataset, studio = self.page.dataset, self.page.context.studio
        if dataset is not None:
            run_in_background(lambda: references_of(studio, dataset.influencer_id), receiver=self,
                              on_done=self._on_references_loaded, on_error=lambda _exc: None)

    def _on_references_loaded(self, references: list[dict]) -> None:
        ids = set()
        for reference in references:
            try:
                ids.add(uuid.UUID(str(reference.get("image_id"))))
            except ValueError:
                continue  # a file or her portrait: no picture of this dataset
        self.page.pane.set_references(ids)

    def set_reference(self, image_id: uuid.UUID, add: bool) -> None:
        page, dataset = self.page, self.page.dataset
        if dataset is None:
            return
        studio, influencer_id = page.context.studio, dataset.influencer_id

        def write() -> str:
            if add:
                return add_image_reference(studio, influencer_id, image_id).note or "Her face here is a reference now."
            index = [str(r.get("image_id")) for r in references_of(studio, influencer_id)].index(str(image_id))
            remove_reference(studio, influencer_id, index)
            return "This face is no longer one of her references."
        page.show_message("Comparing her pictures with the new references…")
        run_in_background(write, receiver=self, on_done=self._on_reference_set,
                          on_error=lambda exc: page.show_message(one_line(exc)))

    def _on_reference_set(self, text: str) -> None:
        self.page.show_message(text)
        self.load_references()

    def _on_live_changed(self, changes: ChangeSet) -> None:
        if self.page.dataset is not None and changes.touches(Entity.INFLUENCER,
                                                             workspace_id=self.page.context.workspace_id):
            self.load_references()

    # Faces… ----------------------------------------------------------------------------------

    def open_faces(self) -> None:
        page, dataset = self.page, self.page.dataset
        if dataset is None:
            return
        if self.panel is not None and self.panel.dataset.id == dataset.id:
            self.panel.show()
            self.panel.raise_()
            return
        if self.panel is not None:
            self.panel.close()
            self.panel.deleteLater()
        self.panel = IdentityPanel(page.context, dataset, page)
        self.panel.cluster_shown.connect(page.filters.set_cluster)
        self.panel.exclusion_requested.connect(self.exclude_cluster)
        self.panel.references_changed.connect(self.load_references)
        self.panel.show()
