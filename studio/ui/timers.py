"""The one place the UI makes QTimers.

Repeating timers must carry a name that says what they are for, so a test can list them and
make sure only the job hub and the change watcher read jobs or data. PySide6's stubs also refuse
property keywords such as ``objectName=`` in the constructor; setting them here keeps that
quirk out of every caller."""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer


def repeating_timer(parent: QObject, *, name: str, interval_ms: int) -> QTimer:
    """A stopped repeating timer named after its purpose; the caller connects and starts it."""
    timer = QTimer(parent)
    timer.setObjectName(name)
    timer.setInterval(interval_ms)
    return timer


def single_shot_timer(parent: QObject, *, interval_ms: int) -> QTimer:
    """A stopped single-shot timer, for debouncing and deferring work to the event loop."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    return timer
