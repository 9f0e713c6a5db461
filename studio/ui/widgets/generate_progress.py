"""The Generate tab's right side: the live preview, progress of the running jobs, Cancel, results.

``GenerationJobs`` follows the jobs of the current batch through the app's job hub (no timer of
its own) and reads the running job's preview frame file when the hub reports that job changed,
or when the previews folder changes (a file-system notice: a frame may land after the job's
last progress write, and a held job writes no more).
``ProgressPanel`` draws it; the results strip is a one-row ``GalleryGrid`` over the page's
results model.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.ui.error_actions import for_window
from studio.ui.job_follow import WaitingReasons
from studio.ui.job_hub import JobHub
from studio.ui.pages.generate_ops import PreviewFrame
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import load_preview
from studio.ui.widgets.failure_banner import FailureBanner
from studio.ui.widgets.gallery_view import GalleryGrid, ImageCanvas

PREVIEW_SIDE = 768
FrameReader = Callable[[uuid.UUID], PreviewFrame | None]


class GenerationJobs(QObject):
    progress_changed = Signal(list)  # list[JobSnapshot] of every job of the batch, in order
    jobs_finished = Signal(list)  # list[JobSnapshot] that finished since the last report
    all_finished = Signal(list)  # list[JobSnapshot]: the last job of the batch is done
    frame_ready = Signal(object)  # QImage: the running job's newest preview frame
    waiting_changed = Signal(str)  # why the batch's next job still waits in its queue ("": it does not)

    def __init__(self, hub: JobHub, read_frame: FrameReader, parent: QObject | None = None, *,
                 previews_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self._read_frame = read_frame
        self.job_ids: list[uuid.UUID] = []
        self._done: set[uuid.UUID] = set()
        self._stamp = 0.0
        self._reading = False
        self._again = False
        self._folder = QFileSystemWatcher(self)
        if previews_dir is not None:
            previews_dir.mkdir(parents=True, exist_ok=True)
            self._folder.addPath(str(previews_dir))
            self._folder.directoryChanged.connect(self._on_previews_changed)
        self.waiting = WaitingReasons(hub, self)
        self.waiting.found.connect(lambda _job, reason: self.waiting_changed.emit(reason))
        hub.jobs_changed.connect(self._on_jobs_changed)
        hub.reset.connect(self._on_reset)

    def watch(self, job_ids: list[uuid.UUID]) -> None:
        """Adds jobs; a batch whose jobs all finished starts over."""
        if not self.running():
            self.job_ids, self._done = [], set()
        self.job_ids.extend(j for j in job_ids if j not in self.job_ids)
        self._report()
        self.hub.refresh()

    def running(self) -> bool:
        return any(j not in self._done for j in self.job_ids)

    def active_ids(self) -> list[uuid.UUID]:
        return [j for j in self.job_ids if j not in self._done]

    def snapshots(self) -> list[JobSnapshot]:
        """The batch's jobs the hub has read, in the order they were submitted."""
        return [s for s in map(self.hub.snapshot, self.job_ids) if s is not None]

    def _on_jobs_changed(self, changed: list[JobSnapshot]) -> None:
        if any(s.id in self.job_ids for s in changed):
            self._report()

    def _on_reset(self) -> None:
        self.job_ids, self._done = [], set()

    def _report(self) -> None:
        states = self.snapshots()
        if not states:
            return
        self.progress_changed.emit(states)
        self.waiting.explain(_waiting_job(states))
        newly = [s for s in states if s.finished and s.id not in self._done]
        self._done.update(s.id for s in newly)
        if newly:
            self.jobs_finished.emit(newly)
            if not self.running():
                self.all_finished.emit(states)
        self._read_preview()

    def _on_previews_changed(self, _folder: str) -> None:
        if self.running():
            self._read_preview()

    def _running_job(self) -> uuid.UUID | None:
        return next((s.id for s in self.snapshots() if s.status is JobStatus.PROCESSING), None)

    def _read_preview(self) -> None:
        """The running job's frame file is read (and decoded) off the UI thread, once per new
        frame; a request while a read is out is served when it is back."""
        job_id = self._running_job()
        if job_id is None:
            return
        if self._reading:
            self._again = True
            return
        self._reading = True
        read, last = self._read_frame, self._stamp

        def load() -> tuple[float, QImage | None] | None:
            frame = read(job_id)
            if frame is None or frame.stamp == last:
                return None
            return frame.stamp, load_preview(frame.path, PREVIEW_SIDE)

        run_in_background(load, receiver=self, lane="io", on_done=self._on_frame,
                          on_error=lambda exc: self._on_frame(None))

    def _on_frame(self, found: tuple[float, QImage | None] | None) -> None:
        self._reading = False
        if found is not None and found[1] is not None and self.running():
            self._stamp = found[0]
            self.frame_ready.emit(found[1])
        if self._again:
            self._again = False
            self._read_preview()


def _waiting_job(states: list[JobSnapshot]) -> uuid.UUID | None:
    """The batch's next job, while nothing of the batch runs and it waits in its queue."""
    if any(s.status is JobStatus.PROCESSING for s in states):
        return None
    return next((s.id for s in states if s.status is JobStatus.PENDING), None)


def describe(states: list[JobSnapshot]) -> tuple[str, str, float]:
    """(stage line, step line, overall fraction) for the jobs shown."""
    if not states:
        return "", "", 0.0
    overall = sum(1.0 if s.finished else s.progress for s in states) / len(states)
    done = sum(1 for s in states if s.finished)
    running = next((s for s in states if s.status is JobStatus.PROCESSING), None)
    head = f"Image {min(done + 1, len(states))} of {len(states)}" if len(states) > 1 else "Image"
    if running is not None:
        return f"{head}: {running.stage or 'starting'}", running.message, overall
    if done == len(states):
        failed = [s for s in states if s.status is not JobStatus.COMPLETED]
        if failed:
            first = failed[0]
            if first.status is JobStatus.FAILED:  # the failure banner below gives the reason
                return f"{len(failed)} of {len(states)} {first.status}.", "", overall
            reason = for_window(first.error or first.message or first.status).text
            return f"{len(failed)} of {len(states)} {first.status}: {reason}", "", overall
        return f"Done: {len(states)} image job{'s' if len(states) > 1 else ''} finished.", "", 1.0
    waiting = next((s for s in states if not s.finished), states[0])
    return f"{head}: waiting in the queue", waiting.message, overall


class ProgressPanel(QWidget):
    cancel_requested = Signal()
    retried = Signal(list)  # list[uuid.UUID]: failed jobs queued again from the banner

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = ImageCanvas(self)
        self.preview.setObjectName("generate-preview")
        self.preview.setMinimumSize(260, 260)
        self.stage = QLabel("Nothing running.", self)
        self.stage.setObjectName("generate-stage")
        self.stage.setWordWrap(True)
        self.step = QLabel(self)
        self.step.setObjectName("generate-step")
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setValue(0)
        self.banner = FailureBanner(self)
        self._waiting, self._waits = "", False
        self.banner.retried.connect(self._on_retried)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.results_title = QLabel("<b>Results</b>", self)
        self.results = GalleryGrid(self, thumb_size=96, strip=True)
        self.results.setObjectName("results-strip")
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.stage)
        layout.addWidget(self.step)
        layout.addLayout(row)
        layout.addWidget(self.banner)
        layout.addWidget(self.results_title)
        layout.addWidget(self.results)

    def start(self, count: int) -> None:
        self.stage.setText(f"Queued {count} image job{'s' if count > 1 else ''}…")
        self.step.setText("")
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.banner.hide()

    def show_progress(self, states: list[JobSnapshot]) -> None:
        stage, step, overall = describe(states)
        self._waits = _waiting_job(states) is not None
        self.stage.setText(stage)
        self.step.setText(self._waiting if self._waits and self._waiting else step)
        self.bar.setValue(round(overall * 100))
        self.cancel_button.setEnabled(any(not s.finished for s in states))
        if all(s.finished for s in states):
            self.banner.show_jobs(states)

    def show_waiting(self, reason: str) -> None:
        """Why the next job still waits; shown under the stage line while it does."""
        self._waiting = reason
        if self._waits and reason:
            self.step.setText(reason)

    def _on_retried(self, job_ids: list[uuid.UUID]) -> None:
        self.start(len(job_ids))
        self.retried.emit(job_ids)

    def show_image(self, image: QImage | None) -> None:
        self.preview.image = image
        self.preview.update()
