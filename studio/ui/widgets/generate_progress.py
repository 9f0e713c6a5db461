"""The Generate tab's right side: the live preview, progress of the running jobs, Cancel, results.

``GenerationWatcher`` polls the rows of the jobs it was given (and the running one's preview
frame) a few times a second off the UI thread and reports what changed. ``ProgressPanel`` draws
it; the results strip is a one-row ``GalleryGrid`` over the page's results model.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from studio.ui.pages.generate_ops import JobProgress
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import load_preview
from studio.ui.widgets.gallery_view import GalleryGrid, ImageCanvas

POLL_MS = 250
PREVIEW_SIDE = 768


class GenerationWatcher(QObject):
    progress_changed = Signal(list)  # list[JobProgress] of every watched job
    jobs_finished = Signal(list)  # list[JobProgress] that finished since the last report
    all_finished = Signal(list)  # list[JobProgress]: the last of the watched jobs is done

    def __init__(self, fetch: Callable[[list[uuid.UUID]], list[JobProgress]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self.job_ids: list[uuid.UUID] = []
        self._done: set[uuid.UUID] = set()
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timeout)

    def watch(self, job_ids: list[uuid.UUID]) -> None:
        """Adds jobs; a watch whose jobs all finished starts over."""
        if not self.running():
            self.job_ids, self._done = [], set()
        self.job_ids.extend(j for j in job_ids if j not in self.job_ids)
        self._timer.start()
        self._on_timeout()

    def running(self) -> bool:
        return self._timer.isActive()

    def active_ids(self) -> list[uuid.UUID]:
        return [j for j in self.job_ids if j not in self._done]

    def _on_timeout(self) -> None:
        if self._busy or not self.job_ids:
            return
        self._busy = True
        fetch, ids = self._fetch, list(self.job_ids)
        run_in_background(lambda: fetch(ids), receiver=self, on_done=self._on_fetched,
                          on_error=self._on_fetch_failed)

    def _on_fetched(self, states: list[JobProgress]) -> None:
        self._busy = False
        self.progress_changed.emit(states)
        newly = [s for s in states if s.finished and s.id not in self._done]
        self._done.update(s.id for s in newly)
        if newly:
            self.jobs_finished.emit(newly)
        if states and all(s.finished for s in states) and len(states) == len(self.job_ids):
            self._timer.stop()
            self.all_finished.emit(states)

    def _on_fetch_failed(self, exc: BaseException) -> None:
        self._busy = False  # try again at the next tick


def describe(states: list[JobProgress]) -> tuple[str, str, float]:
    """(stage line, step line, overall fraction) for the jobs shown."""
    if not states:
        return "", "", 0.0
    overall = sum(1.0 if s.finished else s.progress for s in states) / len(states)
    done = sum(1 for s in states if s.finished)
    running = next((s for s in states if s.status == "processing"), None)
    head = f"Image {min(done + 1, len(states))} of {len(states)}" if len(states) > 1 else "Image"
    if running is not None:
        return f"{head}: {running.stage or 'starting'}", running.message, overall
    if done == len(states):
        failed = [s for s in states if s.status != "completed"]
        if failed:
            first = failed[0]
            reason = first.error or first.message or first.status
            return f"{len(failed)} of {len(states)} {first.status}: {reason}", "", overall
        return f"Done: {len(states)} image job{'s' if len(states) > 1 else ''} finished.", "", 1.0
    waiting = next((s for s in states if not s.finished), states[0])
    return f"{head}: waiting in the queue", waiting.message, overall


class ProgressPanel(QWidget):
    cancel_requested = Signal()

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
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.results_title = QLabel("<b>Results</b>", self)
        self.results = GalleryGrid(self, thumb_size=96, strip=True)
        self.results.setObjectName("results-strip")
        self._stamp = 0.0
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.stage)
        layout.addWidget(self.step)
        layout.addLayout(row)
        layout.addWidget(self.results_title)
        layout.addWidget(self.results)

    def start(self, count: int) -> None:
        self.stage.setText(f"Queued {count} image job{'s' if count > 1 else ''}…")
        self.step.setText("")
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)

    def show_progress(self, states: list[JobProgress]) -> None:
        stage, step, overall = describe(states)
        self.stage.setText(stage)
        self.step.setText(step)
        self.bar.setValue(int(round(overall * 100)))
        self.cancel_button.setEnabled(any(not s.finished for s in states))
        running = next((s for s in states if s.preview is not None), None)
        if running is not None and running.preview_stamp != self._stamp:
            self._stamp = running.preview_stamp
            path = running.preview
            run_in_background(lambda: load_preview(path, PREVIEW_SIDE), receiver=self, lane="io",
                              on_done=self.show_image, on_error=lambda exc: None)

    def show_image(self, image: QImage | None) -> None:
        self.preview.image = image
        self.preview.update()
