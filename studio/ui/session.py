"""One run of the app for one data folder: the window, its worker, and what quitting means."""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from studio.engine.core import Studio
from studio.engine.first_run import is_first_run
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.errors import one_line
from studio.ui.health import HealthMonitor
from studio.ui.main_window import MainWindow
from studio.ui.quitting import QuitChoice, QuitProgress, ask_quit_choice, cancel_for_good, stop_idle_worker
from studio.ui.tasks import run_in_background
from studio.ui.worker_control import WorkerSupervisor

log = logging.getLogger("studio.ui.session")
__all__ = ["QuitChoice", "StudioSession"]


class StudioSession(QObject):
    worker_settled = Signal(bool)  # the start finished: True when a worker runs
    finished = Signal()  # the window is gone and the worker stopped or left to finish

    def __init__(self, studio: Studio, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        # The one blocking read before the window exists: which workspace to show.
        self.context = StudioContext(studio, WorkspaceRef.of(studio.workspace()), self)
        self.monitor = HealthMonitor(studio, self)
        self.window = MainWindow(self.context, self.monitor)
        self.window.intercept_close = True
        self.window.close_requested.connect(self._on_close_requested)
        self.supervisor = WorkerSupervisor(studio.paths)
        self.worker_running = False
        self.quit_choice: QuitChoice | None = None
        self.progress: QuitProgress | None = None  # shown while "Cancel jobs" winds down
        self._quitting = False

    def start(self) -> None:
        self.window.show()
        self.monitor.start()
        studio = self.studio
        run_in_background(lambda: is_first_run(studio), receiver=self, on_done=self._on_first_run_checked)
        run_in_background(self.supervisor.ensure_running, receiver=self, lane="worker",
                          on_done=self._on_worker_started, on_error=self._on_worker_failed)

    def _on_first_run_checked(self, first: bool) -> None:
        if first:
            self.window.show_first_run_guide()

    def _on_worker_started(self, _: object) -> None:
        self.worker_running = True
        self.monitor.refresh()
        self.worker_settled.emit(True)

    def _on_worker_failed(self, exc: BaseException) -> None:
        log.error("worker did not start: %s", exc)
        self.window.statusBar().showMessage(f"The worker did not start: {one_line(exc)}", 15000)
        self.monitor.refresh()
        self.worker_settled.emit(False)

    # Quitting --------------------------------------------------------------------------------

    def ask_quit_choice(self, active: int) -> QuitChoice:
        """Asks what to do with unfinished jobs; tests replace this method."""
        return ask_quit_choice(active, self.window)

    def _on_close_requested(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        # The "live" lane: short reads only, so the question comes at once even while a long
        # database task (a big import's listing) holds the "db" lane.
        run_in_background(self.studio.jobs.active_count, receiver=self, lane="live",
                          on_done=self._on_active_counted, on_error=lambda exc: self._on_active_counted(0))

    def _on_active_counted(self, active: int) -> None:
        choice = self.ask_quit_choice(active) if active else None
        if choice is QuitChoice.WAIT:
            self._quitting = False
            return
        self.quit_choice = choice
        self.window.save_state()
        self.monitor.stop()
        self.context.stop()  # nothing reads changes or jobs any more
        if choice is QuitChoice.CANCEL:
            self.progress = QuitProgress(self.window, active)
            self.progress.show()  # the window stays until every job has ended canceled
        else:
            self.window.hide()
        run_in_background(lambda: self._wind_down(choice), receiver=self, lane="worker",
                          on_done=self._on_wound_down, on_error=self._on_wind_down_failed)

    def _wind_down(self, choice: QuitChoice | None) -> None:
        """Blocking, on the worker lane (so it runs after a start still in progress)."""
        if choice is QuitChoice.BACKGROUND:
            if self.supervisor.started_here:
                self.supervisor.leave_running()
            return
        if choice is QuitChoice.CANCEL:
            assert self.progress is not None
            cancel_for_good(self.studio, self.supervisor, self.progress.step_changed.emit)
            return
        stop_idle_worker(self.studio, self.supervisor)

    def _on_wound_down(self, _: object = None) -> None:
        if self.progress is not None:
            self.progress.close()
        self.window.hide()
        self.finished.emit()

    def _on_wind_down_failed(self, exc: BaseException) -> None:
        log.error("stopping the worker failed: %s", exc)
        self._on_wound_down()
