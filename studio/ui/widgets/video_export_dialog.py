"""Export dialog: preset, target folder, fit, loudness, cover; progress; "Show in folder".

The dialog collects choices and hands them to the page's ``submit`` callable (which queues an
export-video job in the background), then follows the job through the app's job hub.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.media.presets import ExportPreset
from studio.ui.errors import one_line
from studio.ui.job_follow import JobFollower
from studio.ui.job_hub import JobHub
from studio.ui.tasks import run_in_background


class ExportDialog(QDialog):
    export_started = Signal(object)  # uuid.UUID of the job
    export_finished = Signal(str)  # the exported file, "" when it failed or was canceled

    def __init__(self, presets: list[ExportPreset], folder: Path,
                 submit: Callable[[dict[str, object]], uuid.UUID], jobs: JobHub,
                 parent: QWidget | None = None, *,
                 deliver: Callable[[uuid.UUID], Path | None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self._submit = submit
        self._deliver = deliver  # copies a file made on another machine into the chosen folder
        self.exported: Path | None = None
        self._build_choices(presets, folder)
        self._build_progress()
        self.follower = JobFollower(jobs, self)
        self.follower.job_changed.connect(self._on_job_changed)
        self.follower.job_finished.connect(self._on_job_finished)
        self._layout()

    def _build_choices(self, presets: list[ExportPreset], folder: Path) -> None:
        self.preset = QComboBox(self)
        for preset in presets:
            self.preset.addItem(f"{preset.title} — {preset.width}×{preset.height}", preset.slug)
        self.folder = QLineEdit(str(folder), self)
        self.browse_button = QPushButton("Choose…", self)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.fit = QComboBox(self)
        self.fit.addItem("Crop to fill", "crop")
        self.fit.addItem("Fit over a blurred copy", "blur")
        self.loudness = QCheckBox("Even out loudness to −14 LUFS", self)
        self.loudness.setChecked(True)
        self.subtitles = QCheckBox("Burn in the subtitles", self)
        self.subtitles.setChecked(True)
        self.cover = QCheckBox("Also save a cover frame (JPEG) at", self)
        self.cover_at = QDoubleSpinBox(self)
        self.cover_at.setRange(0, 3600)
        self.cover_at.setSuffix(" s")

    def _build_progress(self) -> None:
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.show_button = QPushButton("Show in folder", self)
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self._on_show_clicked)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse_button)
        form.addRow("Folder", folder_row)
        form.addRow("Framing", self.fit)
        cover_row = QHBoxLayout()
        cover_row.addWidget(self.cover)
        cover_row.addWidget(self.cover_at)
        form.addRow("", self.loudness)
        form.addRow("", self.subtitles)
        form.addRow("", _wrap(cover_row, self))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.show_button, self.export_button, self.close_button):
            buttons.addWidget(button)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.progress_bar)
        column.addWidget(self.status)
        column.addLayout(buttons)

    def choices(self) -> dict[str, object]:
        return {"preset": self.preset.currentData(), "folder": Path(self.folder.text().strip()),
                "fit": self.fit.currentData(), "loudness": self.loudness.isChecked(),
                "subtitles": self.subtitles.isChecked(),
                "cover_at_s": self.cover_at.value() if self.cover.isChecked() else None}

    def _on_browse_clicked(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def _on_export_clicked(self) -> None:
        choices = self.choices()
        self.export_button.setEnabled(False)
        self.show_button.setEnabled(False)
        self.status.setText("Queued…")
        run_in_background(lambda: self._submit(choices), receiver=self,
                          on_done=self._on_submitted, on_error=self._on_failed)

    def _on_submitted(self, job_id: uuid.UUID) -> None:
        self.export_started.emit(job_id)
        self.follower.follow(job_id)

    def _on_failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.status.setText(one_line(exc))
        self.export_finished.emit("")

    def _on_job_changed(self, state: JobSnapshot) -> None:
        self.progress_bar.setValue(round(state.progress * 1000))
        self.status.setText(f"{state.stage or state.status}: {state.message}".rstrip(": "))

    def _on_job_finished(self, state: JobSnapshot) -> None:
        self.export_button.setEnabled(True)
        if state.status is not JobStatus.COMPLETED:
            self.status.setText(state.error or state.status.capitalize())
            self.export_finished.emit("")
            return
        result = state.result or {}
        if result.get("deliver_to") and not result.get("exported_to") and self._deliver:
            deliver, job_id = self._deliver, state.id
            self.status.setText("Copying the file made on another machine…")
            run_in_background(lambda: deliver(job_id), receiver=self, lane="io",
                              on_done=lambda path: self._saved(Path(str(path)), result),
                              on_error=self._on_failed)
            return
        self._saved(Path(str(result.get("exported_to") or result.get("output"))), result)

    def _saved(self, path: Path, result: dict[str, object]) -> None:
        self.exported = path
        found = result.get("notes")
        notes = "; ".join(map(str, found)) if isinstance(found, list) else ""
        self.status.setText(f"Saved {path.name}" + (f" ({notes})" if notes else ""))
        self.show_button.setEnabled(True)
        self.export_finished.emit(str(path))

    def _on_show_clicked(self) -> None:
        if self.exported is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.exported.parent)))


def _wrap(layout: QHBoxLayout, parent: QWidget) -> QWidget:
    holder = QWidget(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(layout)
    return holder
