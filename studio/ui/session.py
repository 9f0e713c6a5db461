"""One run of the app for one data folder: the window, its worker, and what quitting means."""
from __future__ import annotations

import logging
import time
from enum import StrEnum

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from studio.engine.core import Studio
from studio.engine.errors import InvalidInput
from studio.engine.first_run import is_first_run
from studio.engine.jobs.status import ACTIVE
from studio.ui.context import StudioContext, WorkspaceRef
from studio.ui.health import HealthMonitor
from studio.ui.main_window import MainWindow
from studio.ui.tasks import run_in_background
from studio.ui.worker_control import STOP_TIMEOUT_S, WorkerSupervisor

log = logging.getLogger("studio.ui.session")


class QuitChoice(StrEnum):
    BACKGROUND = "background"
    WAIT = "wait"
    CANCEL = "cancel"


def cancel_active_jobs(studio: Studio, *, settle_s: float = STOP_TIMEOUT_S) -> int:
    """Cancels every waiting or running job, then waits (bounded) for running ones to stop."""
    canceled = 0
    for workspace in studio.workspaces():
        for status in ACTIVE:
            for job in studio.jobs.list(workspace.id, status=status):
                try:
                    studio.jobs.cancel(workspace.id, job.id)
                    canceled += 1
                except InvalidInput:
                    pass  # it finished meanwhile
    deadline = time.monotonic() + settle_s
    while studio.jobs.active_count() and time.monotonic() < deadline:
        time.sleep(0.2)
    return canceled


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
        self.window.statusBar().showMessage(f"The worker did not start: {exc}", 15000)
        self.monitor.refresh()
        self.worker_settled.emit(False)

    # Quitting --------------------------------------------------------------------------------

    def ask_quit_choice(self, active: int) -> QuitChoice:
        """Asks what to do with unfinished jobs; tests replace this method."""
        box = QMessageBox(QMessageBox.Icon.Question, "Jobs are still running",
                          f"{active} job(s) are waiting or running.", parent=self.window)
        box.setInformativeText("Keep them running in the background after the window closes, "
                               "wait for them, or cancel them?")
        keep = box.addButton("Keep running in the background", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Wait", QMessageBox.ButtonRole.RejectRole)
        cancel = box.addButton("Cancel jobs", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if clicked is keep:
            return QuitChoice.BACKGROUND
        if clicked is cancel:
            return QuitChoice.CANCEL
        return QuitChoice.WAIT

    def _on_close_requested(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        jobs = self.studio.jobs
        run_in_background(jobs.active_count, receiver=self, on_done=self._on_active_counted,
                          on_error=lambda exc: self._on_active_counted(0))

    def _on_active_counted(self, active: int) -> None:
        choice = QuitChoice.BACKGROUND if active else None
        if active:
            choice = self.ask_quit_choice(active)
            if choice is QuitChoice.WAIT:
                self._quitting = False
                return
        self.quit_choice = choice
        self.window.save_state()
        self.window.hide()
        self.monitor.stop()
        self.context.stop()  # the window is gone: nothing reads changes or jobs any more
        run_in_background(lambda: self._wind_down(choice), receiver=self, lane="worker",
                          on_done=lambda _: self.finished.emit(),
                          on_error=self._on_wind_down_failed)

    def _wind_down(self, choice: QuitChoice | None) -> None:
        """Blocking, on the worker lane (so it runs after a start still in progress)."""
        if choice is QuitChoice.BACKGROUND:
            if self.supervisor.started_here:
                self.supervisor.leave_running()
            return
        if choice is QuitChoice.CANCEL:
            cancel_active_jobs(self.studio)
        self.supervisor.stop()

    def _on_wind_down_failed(self, exc: BaseException) -> None:
        log.error("stopping the worker failed: %s", exc)
        self.finished.emit()
