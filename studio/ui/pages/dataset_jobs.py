"""The Datasets page's jobs: import, analysis and auto-caption started, followed and reported,
and the kohya export.

``DatasetJobs`` is a collaborator the page owns: it is handed the context, the import panel, a
way to ask which dataset is open and a parent for its dialogs, and says what happened through
signals. It follows its job through the job hub (a ``JobFollower``), so it reads nothing on a
timer; a job queued elsewhere (the getting-started guide's sample import) is followed the same
way with ``follow``.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from studio.engine.db.models import Dataset
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.job_follow import JobFollower
from studio.ui.pages import dataset_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.widgets.import_panel import ImportPanel

IMPORT, ANALYSIS, AUTOCAPTION = "import", "analysis", "autocaption"
VERBS = {IMPORT: "Importing", ANALYSIS: "Analysing", AUTOCAPTION: "Captioning"}
NOUNS = {ANALYSIS: "Analysis", AUTOCAPTION: "Auto-caption"}
PICTURE_FILTER = ("Pictures, clips and zip files (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.heic "
                  "*.avif *.mp4 *.m4v *.webm *.mov *.zip);;All files (*)")


@dataclass(frozen=True, slots=True)
class Followed:
    kind: str  # IMPORT, ANALYSIS or AUTOCAPTION
    job_id: uuid.UUID
    dataset: Dataset | None  # an import that ends well is analysed next


class DatasetJobs(QObject):
    message_shown = Signal(str)
    job_finished = Signal(object)  # JobSnapshot of the job followed

    def __init__(self, context: StudioContext, panel: ImportPanel,
                 dataset: Callable[[], Dataset | None], parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.panel = panel
        self._dataset = dataset
        self.parent_widget = parent
        self.followed: Followed | None = None
        self.follower = JobFollower(context.jobs, self)
        self.follower.job_changed.connect(self._on_job_changed)
        self.follower.job_finished.connect(self._on_job_finished)
        self.ended: Followed | None = None  # the job the panel reports on; Retry follows it again
        panel.attach(context.jobs)
        panel.banner.retried.connect(self._on_retried)

    # Starting --------------------------------------------------------------------------------

    def ask_import(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.parent_widget, "Add pictures or clips", "", PICTURE_FILTER)
        if files:
            self.import_paths([Path(f) for f in files])

    def import_paths(self, paths: list[Path]) -> None:
        if (dataset := self._dataset()) is not None:
            self.panel.start(f"Importing {len(paths)} item(s)…", new_report=True)
            self._start(IMPORT, dataset, lambda: ops.submit_import(self.context, dataset, paths))

    def analyze(self, dataset: Dataset | None = None) -> None:
        """The open dataset, or the one an import just filled."""
        if (dataset := dataset or self._dataset()) is not None:
            self.panel.start("Analysing…")
            self._start(ANALYSIS, dataset, lambda: ops.submit_analysis(self.context, dataset))

    def ask_autocaption(self, image_ids: list[uuid.UUID]) -> None:
        dataset = self._dataset()
        if dataset is None:
            return
        settings = self.context.studio.settings.llm
        model = settings.model or "(no model set: choose one in Settings, llm.model)"
        answer = QMessageBox.question(
            self.parent_widget, "Auto-caption",
            f"Send {len(image_ids)} picture(s) to {model} at {settings.base_url}?\n\nEach call is "
            "paid; its cost is recorded on the job. The captions can be undone in one step.")
        if answer == QMessageBox.StandardButton.Yes:
            self.panel.start(f"Auto-captioning {len(image_ids)} picture(s)…")
            self._start(AUTOCAPTION, dataset,
                        lambda: ops.submit_autocaption(self.context, dataset, image_ids))

    def _start(self, kind: str, dataset: Dataset, submit: Callable[[], uuid.UUID]) -> None:
        run_in_background(submit, receiver=self,
                          on_done=lambda job_id: self.follow(kind, job_id, dataset),
                          on_error=lambda exc: self.message_shown.emit(f"Cannot start the {kind}: {one_line(exc)}"))

    # Following -------------------------------------------------------------------------------

    def follow(self, kind: str, job_id: uuid.UUID, dataset: Dataset | None) -> None:
        """Shows the job's progress in the panel until it ends; one job at a time."""
        if kind == IMPORT and self.followed is None:
            self.panel.start("Importing…", new_report=True)
        self.followed = Followed(kind, job_id, dataset)
        self.follower.clear()
        self.follower.follow(job_id)

    def _on_job_changed(self, job: JobSnapshot) -> None:
        if self.followed is not None and not job.finished:
            self.panel.show_progress(job, VERBS.get(self.followed.kind, "Working"))

    def _on_job_finished(self, job: JobSnapshot) -> None:
        followed, self.followed = self.followed, None
        if followed is None:
            return
        self.ended = followed
        if followed.kind == IMPORT:
            self._on_import_finished(job, followed.dataset)
        else:
            self.panel.show_ended(NOUNS.get(followed.kind, "Job"), job)
        self.job_finished.emit(job)

    def _on_retried(self, job_ids: list[uuid.UUID]) -> None:
        if self.ended is not None and job_ids:
            self.panel.start(f"{VERBS.get(self.ended.kind, 'Working')}…", new_report=self.ended.kind == IMPORT)
            self.follow(self.ended.kind, job_ids[0], self.ended.dataset)

    def _on_import_finished(self, snapshot: JobSnapshot, dataset: Dataset | None) -> None:
        self.panel.show_import_report(snapshot)
        imported = int((snapshot.result or {}).get("imported", 0))
        if snapshot.status is JobStatus.COMPLETED and imported and dataset is not None:
            self.analyze(dataset)

    # Export ----------------------------------------------------------------------------------

    def ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent_widget, "Export for kohya sd-scripts")
        if not folder:
            return
        labels = list(ops.EXPORT_STYLES)
        label, ok = QInputDialog.getItem(self.parent_widget, "Captions in the export",
                                         "Write the captions:", labels, 0, False)
        if ok:
            self.export_to(Path(folder), ops.EXPORT_STYLES.get(label))

    def export_to(self, folder: Path, caption_style: str | None = None) -> None:
        dataset = self._dataset()
        if dataset is None:
            return
        self.message_shown.emit(f"Exporting to {folder}…")
        context = self.context
        run_in_background(lambda: ops.export(context, dataset, folder, caption_style), receiver=self, lane="io",
                          on_done=self.message_shown.emit,
                          on_error=lambda exc: self.message_shown.emit(f"Export failed: {one_line(exc)}"))
