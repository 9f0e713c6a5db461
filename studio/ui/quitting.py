"""What quitting the app does with unfinished jobs: the question, and the wind-down it chose.

Nothing running: the worker this app started is stopped (the app waits for its lock, not for
its interpreter's exit) and the app is gone within a second. With jobs, the question comes at
once; "Cancel jobs" cancels each for good (the Queue page's Cancel, then whatever the stopping
worker left is settled, engine/jobs/cancel_all.py) while a progress dialog says what it waits for.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QProgressDialog, QWidget

from studio.engine.core import Studio
from studio.engine.jobs.cancel_all import cancel_active, still_stopping
from studio.engine.worker.process import local_worker
from studio.ui.worker_control import WorkerSupervisor

log = logging.getLogger("studio.ui.quit")
CANCEL_GRACE_S = 10.0  # running jobs that check for cancel stop well within this
POLL_S = 0.2
# An idle worker lets go of its lock within a tenth of a second of being asked; one slower than
# this is not waited for (it exits by itself: its app has gone).
IDLE_STOP_WAIT_S = 1.0


class QuitChoice(StrEnum):
    BACKGROUND = "background"
    WAIT = "wait"
    CANCEL = "cancel"


def quit_question(active: int, parent: QWidget | None = None) -> tuple[QMessageBox, dict[QAbstractButton, QuitChoice]]:
    """The question, built apart from asking it so that tests and screenshots can see it."""
    box = QMessageBox(QMessageBox.Icon.Question, "Jobs are still running",
                      f"{active} job(s) are waiting or running.", parent=parent)
    box.setInformativeText("Keep them running in the background after the window closes, "
                           "stay open and watch them in the Queue, or cancel them?")
    keep = box.addButton("Keep running in the background", QMessageBox.ButtonRole.AcceptRole)
    wait = box.addButton("Stay open", QMessageBox.ButtonRole.RejectRole)
    cancel = box.addButton("Cancel jobs", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)
    return box, {keep: QuitChoice.BACKGROUND, wait: QuitChoice.WAIT, cancel: QuitChoice.CANCEL}


def ask_quit_choice(active: int, parent: QWidget | None = None) -> QuitChoice:
    box, choices = quit_question(active, parent)
    box.exec()
    return choices.get(box.clickedButton(), QuitChoice.WAIT)  # Esc or the title bar's close: stay


class QuitProgress(QObject):
    """Carries the wind-down's steps from its background lane to the dialog on the UI thread."""

    step_changed = Signal(str)

    def __init__(self, parent: QWidget, active: int) -> None:
        super().__init__(parent)
        self.dialog = QProgressDialog(f"Canceling {active} job(s)…", "", 0, 0, parent)
        self.dialog.setWindowTitle("Quitting")
        self.dialog.setCancelButton(None)  # no button: the jobs are being canceled already
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.step_changed.connect(self.dialog.setLabelText)

    def show(self) -> None:
        self.dialog.show()

    def close(self) -> None:
        self.dialog.close()


def cancel_for_good(studio: Studio, supervisor: WorkerSupervisor, report: Callable[[str], None]) -> None:
    """Blocking (the "worker" lane): every unfinished job ends canceled before this returns,
    unless a live worker on another machine still stops it; then this app's worker stops."""
    timeout = studio.settings.worker.heartbeat_timeout_s
    keys = cancel_active(studio.jobs)
    report(f"Canceling {len(keys)} job(s)…")
    deadline = time.monotonic() + CANCEL_GRACE_S
    left = still_stopping(studio.jobs, keys, timeout_s=timeout)
    while left and time.monotonic() < deadline:
        report(f"Waiting for {len(left)} running job(s) to stop…")
        time.sleep(POLL_S)
        left = still_stopping(studio.jobs, keys, timeout_s=timeout)
    report("Stopping the worker…")
    supervisor.stop()
    still_stopping(studio.jobs, keys, timeout_s=timeout)  # what the stopped worker left behind


def stop_idle_worker(studio: Studio, supervisor: WorkerSupervisor) -> bool:
    """Blocking (the "worker" lane), nothing running: this app's worker is asked to stop and
    waited for until it lets go of its lock (not for its interpreter's exit), at most
    ``IDLE_STOP_WAIT_S``. True when it has stopped; a headless worker is left as it is."""
    ours = supervisor.started_here
    supervisor.stop_soon()
    deadline = time.monotonic() + IDLE_STOP_WAIT_S
    while ours and local_worker(studio.paths) is not None:
        if time.monotonic() >= deadline:
            log.warning("the worker is still stopping; it finishes by itself")
            return False
        time.sleep(0.02)
    return True
