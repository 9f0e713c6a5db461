"""Python's cycle collector runs on the UI thread only, in the app.

Left to itself, the collector runs in whichever thread happens to allocate when its thresholds
are crossed: a background task's thread, say. Cyclic garbage often holds Qt objects (a closed
dialog, a page's callbacks); collected there, a QObject is destroyed off its own thread, which
either leaves its timers registered with the UI thread's event loop (a crash later) or
deadlocks against Qt's locks while it waits for the GIL (both seen in full test runs). So
automatic collection is off in the app, and a timer on the UI thread collects as the
thresholds would, twice a second.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject

from studio.ui.timers import repeating_timer

INTERVAL_MS = 500
TIMER_NAME = "garbage-collection"  # reads no jobs and no studio data


class UiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("ui-thread-collector")
        self._timer = repeating_timer(self, name=TIMER_NAME, interval_ms=INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> int:
        """Collects the generations whose thresholds are crossed; returns the objects found."""
        thresholds, counts = gc.get_threshold(), gc.get_count()
        if counts[0] <= thresholds[0]:
            return 0
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 2 if counts[2] > thresholds[2] else 1
        return gc.collect(generation)


def collect_on_ui_thread(app: QCoreApplication) -> UiThreadCollector:
    """Installs the collector once per application (called on the UI thread)."""
    found = app.findChild(UiThreadCollector, "ui-thread-collector")
    return found if isinstance(found, UiThreadCollector) else UiThreadCollector(app)
