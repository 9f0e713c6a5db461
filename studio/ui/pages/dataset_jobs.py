"""The Datasets page's import, analysis and export: jobs started, watched and reported.

A mixin of ``DatasetsPage`` (it uses the page's dataset, context, import panel, watcher and
status line), kept apart so each module stays small.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.ui.pages import dataset_ops as ops
from studio.ui.tasks import run_in_background
from studio.ui.widgets.import_panel import JobState
from studio.ui.widgets.thumbnail_grid import dropped_paths


JOB_VERBS = {"import": "Importing", "analysis": "Analysing", "autocaption": "Captioning"}


class DatasetJobsMixin:
    """Needs ``dataset``, ``context``, ``import_panel``, ``watcher``, ``refresh`` and
    ``show_message`` from the page it is mixed into."""

    _watching = ""  # "import" or "analysis"

    # Import, analysis, export ----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self.dataset is not None and dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    def _on_import_clicked(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add pictures", "",
                                                "Pictures and zip files (*.jpg *.jpeg *.png *.webp "
                                                "*.bmp *.tif *.tiff *.heic *.avif *.zip);;All files (*)")
        if files:
            self.import_paths([Path(f) for f in files])

    def import_paths(self, paths: list[Path]) -> None:
        if self.dataset is None:
            self.show_message("Choose or create a dataset first, then drop the pictures on it.")
            return
        self.import_panel.start(f"Importing {len(paths)} item(s)…", new_report=True)
        self._start_job("import", ops.submit_import, paths)

    def analyze(self) -> None:
        if self.dataset is not None:
            self.import_panel.start("Analysing…")
            self._start_job("analysis", ops.submit_analysis)

    def _on_autocaption_clicked(self) -> None:
        self.editor.flush()
        ids = self.selected_ids() or [r.id for r in self.model.shown_rows() if not r.caption.strip()]
        if not ids:
            self.show_message("Select the pictures to caption (or filter to those without a caption).")
            return
        settings = self.context.studio.settings.llm
        model = settings.model or "(no model set: choose one in Settings, llm.model)"
        answer = QMessageBox.question(
            self, "Auto-caption",
            f"Send {len(ids)} picture(s) to {model} at {settings.base_url}?\n\nEach call is paid; "
            "its cost is recorded on the job. The captions can be undone in one step.")
        if answer == QMessageBox.StandardButton.Yes:
            self.import_panel.start(f"Auto-captioning {len(ids)} picture(s)…")
            self._start_job("autocaption", ops.submit_autocaption, ids)

    def _start_job(self, kind: str, fn: Any, *args: Any) -> None:
        dataset, context = self.dataset, self.context
        run_in_background(lambda: fn(context, dataset, *args), receiver=self,
                          on_done=lambda job_id: self._on_job_submitted(kind, job_id),
                          on_error=lambda exc: self.show_message(f"Cannot start the {kind}: {exc}"))

    def _on_job_submitted(self, kind: str, job_id: uuid.UUID) -> None:
        self._watching = kind
        self.watcher.watch(job_id)

    def _on_job_changed(self, state: JobState) -> None:
        if not state.finished:
            self.import_panel.show_progress(state, JOB_VERBS.get(self._watching, "Working"))

    def _on_job_finished(self, state: JobState) -> None:
        kind, self._watching = self._watching, ""
        self.refresh()
        if kind == "import":
            self.import_panel.show_import_report(state)
            imported = int((state.result or {}).get("imported", 0))
            if state.status == "completed" and imported:
                self.analyze()
        else:
            noun = "Auto-caption" if kind == "autocaption" else "Analysis"
            text = f"{noun} finished." if state.status == "completed" else f"{noun} {state.status}: {state.error}"
            self.import_panel.title.setText(text)
            self.import_panel.bar.setValue(100)

    def _on_export_requested(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export for kohya sd-scripts")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        dataset, context = self.dataset, self.context
        if dataset is None:
            return
        self.show_message(f"Exporting to {folder}…")
        run_in_background(lambda: ops.export(context, dataset, folder), receiver=self, lane="io",
                          on_done=self.show_message,
                          on_error=lambda exc: self.show_message(f"Export failed: {exc}"))
