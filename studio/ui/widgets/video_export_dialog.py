"""Export dialog: platform presets (several at once), folder, fit, loudness, cover; one progress
bar for all of them; "Show in folder".

The dialog collects choices and hands them to the page's ``submit`` callable once per chosen
preset (each queues an export-video job), then follows the jobs through the app's job hub. The
bar shows the mean of their progress; the status line names the files once all are done.
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
    QGridLayout,
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
from studio.ui.error_actions import for_window
from studio.ui.errors import one_line
from studio.ui.job_follow import JobFollower
from studio.ui.job_hub import JobHub
from studio.ui.tasks import run_in_background
from studio.ui.widgets.failure_banner import FailureBanner

Submit = Callable[[dict[str, object]], uuid.UUID]
PRESET_COLUMNS = 2


def submit_each(submit: Submit, choices: dict[str, object],
                slugs: list[str]) -> tuple[list[uuid.UUID], str]:
    """One job per preset; a refusal stops the rest but keeps those already queued."""
    queued: list[uuid.UUID] = []
    for slug in slugs:
        try:
            queued.append(submit({**choices, "preset": slug}))
        except Exception as exc:  # shown in the dialog, in one line
            return queued, one_line(exc)
    return queued, ""


class ExportDialog(QDialog):
    export_started = Signal(object)  # uuid.UUID of each job queued
    export_finished = Signal(str)  # each job's exported file, "" when it failed or was canceled
    all_finished = Signal(list)  # every exported file (Paths), once all the jobs are done

    def __init__(self, presets: list[ExportPreset], folder: Path, submit: Submit, jobs: JobHub,
                 parent: QWidget | None = None, *,
                 deliver: Callable[[uuid.UUID], Path | None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self._submit = submit
        self._deliver = deliver  # copies a file made on another machine into the chosen folder
        self.exported: list[Path] = []
        self._progress: dict[uuid.UUID, float] = {}  # each job of this export, 1.0 once done
        self._failures: list[str] = []
        self._failed: list[JobSnapshot] = []  # failed jobs of this export: Retry runs them again
        self._notes = ""  # what the engine noted on the last file (a trimmed clip…)
        self._waiting = 0  # jobs not yet finished (and delivered)
        self._build_choices(presets, folder)
        self._build_progress()
        self.follower = JobFollower(jobs, self)
        self.banner.attach(jobs)
        self.follower.job_changed.connect(self._on_job_changed)
        self.follower.job_finished.connect(self._on_job_finished)
        self._layout()

    def _build_choices(self, presets: list[ExportPreset], folder: Path) -> None:
        self.presets: dict[str, QCheckBox] = {}
        for preset in presets:
            check = QCheckBox(f"{preset.title} — {preset.width}×{preset.height}", self)
            check.setObjectName(f"export-{preset.slug}")
            self.presets[preset.slug] = check
        if presets:
            self.presets[presets[0].slug].setChecked(True)
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
        self.banner = FailureBanner(self)
        self.banner.retried.connect(self._on_retried)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.show_button = QPushButton("Show in folder", self)
        self.show_button.setEnabled(False)
        self.show_button.clicked.connect(self._on_show_clicked)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)

    def _layout(self) -> None:
        grid = QGridLayout()
        for index, check in enumerate(self.presets.values()):
            grid.addWidget(check, index // PRESET_COLUMNS, index % PRESET_COLUMNS)
            check.toggled.connect(self._on_presets_toggled)
        form = QFormLayout()
        form.addRow("Platforms", _wrap(grid, self))
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse_button)
        form.addRow("Folder", _wrap(folder_row, self))
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
        column.addWidget(self.banner)
        column.addLayout(buttons)

    def chosen_presets(self) -> list[str]:
        return [slug for slug, check in self.presets.items() if check.isChecked()]

    def choose(self, slugs: list[str]) -> None:
        for slug, check in self.presets.items():
            check.setChecked(slug in slugs)

    def choices(self) -> dict[str, object]:
        """What every chosen preset's export shares (the preset itself is added per job)."""
        return {"folder": Path(self.folder.text().strip()), "fit": self.fit.currentData(),
                "loudness": self.loudness.isChecked(), "subtitles": self.subtitles.isChecked(),
                "cover_at_s": self.cover_at.value() if self.cover.isChecked() else None}

    def _on_presets_toggled(self, _on: bool) -> None:
        self.export_button.setEnabled(self._waiting == 0 and bool(self.chosen_presets()))

    def _on_browse_clicked(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    # Running -----------------------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        choices, slugs, submit = self.choices(), self.chosen_presets(), self._submit
        if not slugs:
            self.status.setText("Choose at least one platform.")
            return
        self.export_button.setEnabled(False)
        self.show_button.setEnabled(False)
        self.exported, self._failures, self._progress, self._failed = [], [], {}, []
        self.banner.hide()
        self.progress_bar.setValue(0)
        self.status.setText("Queued…")
        run_in_background(lambda: submit_each(submit, choices, slugs), receiver=self,
                          on_done=self._on_submitted, on_error=self._on_failed)

    def _on_submitted(self, queued: tuple[list[uuid.UUID], str]) -> None:
        job_ids, problem = queued
        if problem:
            self._failures.append(problem)
        self._waiting = len(job_ids)
        for job_id in job_ids:
            self._progress[job_id] = 0.0
            self.export_started.emit(job_id)
            self.follower.follow(job_id)
        if not job_ids:
            self._done()

    def _on_failed(self, exc: BaseException) -> None:
        self._failures.append(one_line(exc))
        self._done()

    def _on_job_changed(self, state: JobSnapshot) -> None:
        if state.id not in self._progress:
            return
        self._progress[state.id] = 1.0 if state.finished else state.progress
        self.progress_bar.setValue(round(1000 * sum(self._progress.values()) / len(self._progress)))
        if not state.finished:
            count = f" ({len(self._progress)} exports)" if len(self._progress) > 1 else ""
            self.status.setText(f"{state.stage or state.status}: {state.message}".rstrip(": ")
                                + count)

    def _on_job_finished(self, state: JobSnapshot) -> None:
        if state.id not in self._progress:
            return
        if state.status is not JobStatus.COMPLETED:
            self._failed.append(state)
            self._one_done(None, for_window(state.error).text if state.error else state.status.capitalize())
            return
        result = state.result or {}
        if result.get("deliver_to") and not result.get("exported_to") and self._deliver:
            deliver, job_id = self._deliver, state.id
            self.status.setText("Copying the file made on another machine…")
            run_in_background(lambda: deliver(job_id), receiver=self, lane="io",
                              on_done=lambda path: self._one_done(Path(str(path)), ""),
                              on_error=lambda exc: self._one_done(None, one_line(exc)))
            return
        self._one_done(Path(str(result.get("exported_to") or result.get("output"))),
                       "; ".join(map(str, result.get("notes") or [])))

    def _one_done(self, path: Path | None, note: str) -> None:
        """One job finished: its file (None when it failed, ``note`` then says why)."""
        if path is None:
            self._failures.append(note)
        else:
            self.exported.append(path)
            self._notes = note
        self.export_finished.emit(str(path) if path else "")
        self._waiting -= 1
        if self._waiting <= 0:
            self._done()

    def _done(self) -> None:
        self._waiting = 0
        self.export_button.setEnabled(bool(self.chosen_presets()))
        self.show_button.setEnabled(bool(self.exported))
        self.status.setText(self._summary())
        self.banner.show_jobs(self._failed)
        self.all_finished.emit(list(self.exported))

    def _on_retried(self, job_ids: list[uuid.UUID]) -> None:
        """The failed exports run again; the ones that worked stay as they are."""
        self._failures, self._failed = [], []
        self._waiting = len(job_ids)
        self.export_button.setEnabled(False)
        for job_id in job_ids:
            self._progress[job_id] = 0.0
            self.follower.follow(job_id)

    def _summary(self) -> str:
        parts = []
        if len(self.exported) == 1:
            notes = f" ({self._notes})" if self._notes else ""
            parts.append(f"Saved {self.exported[0].name}{notes}")
        elif self.exported:
            parts.append(f"Saved {len(self.exported)} files: "
                         + ", ".join(path.name for path in self.exported))
        parts.extend(self._failures)
        return ". ".join(parts)

    def _on_show_clicked(self) -> None:
        if self.exported:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.exported[-1].parent)))


def _wrap(layout: QGridLayout | QHBoxLayout, parent: QWidget) -> QWidget:
    holder = QWidget(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(layout)
    return holder
