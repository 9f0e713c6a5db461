"""Python's cycle collector runs on the UI thread only, in the app, and a full collection walks
only what is new.

Left to itself, the collector runs in whichever thread happens to allocate when its thresholds
are crossed: a background task's thread, say. Cyclic garbage often holds Qt objects (a closed
dialog, a page's callbacks); collected there, a QObject is destroyed off its own thread, which
either leaves its timers registered with the UI thread's event loop (a crash later) or
deadlocks against Qt's locks while it waits for the GIL (both seen in full test runs). So
automatic collection is off in the app, and a timer on the UI thread collects as the
thresholds would, twice a second.

A full collection walks every container object alive: with a dataset of 100,000 pictures open
(half a million objects) one took 70–240 ms, a frozen window each time (bench/grid.py,
bench/live_state.py). What survives a full collection is long-lived (the window, its pages, the
rows shown), so it is moved to the permanent generation (``gc.freeze``) and later full
collections walk only what was made since: a few milliseconds. Reference counting still frees
everything not in a cycle; a cycle among frozen objects (a closed dialog's callbacks) waits for
a complete collection, made when the window loses focus (the user is elsewhere) and at least
every ``COMPLETE_S`` seconds. Likewise a burst of new objects (a thread reading 100,000 rows or
checking their captions: a young collection of them took 40 ms) is frozen as it is, not walked.
"""
from __future__ import annotations

import gc
import time

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QGuiApplication

from studio.ui.timers import repeating_timer

INTERVAL_MS = 500
TIMER_NAME = "garbage-collection"  # reads no jobs and no studio data
COMPLETE_S = 600.0  # the longest a cycle among long-lived objects waits to be freed
INACTIVE_COMPLETE_S = 60.0  # on losing focus, a complete collection at most this often
BURST = 20_000  # new objects since the last collection past which they are frozen, not walked


class UiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName("ui-thread-collector")
        self._timer = repeating_timer(self, name=TIMER_NAME, interval_ms=INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self.completed_at = time.monotonic()
        gc.disable()
        self._timer.start()
        if isinstance(parent, QGuiApplication):
            parent.applicationStateChanged.connect(self._on_state_changed)

    def collect_due(self) -> int:
        """Collects the generations whose thresholds are crossed; returns the objects found."""
        if time.monotonic() - self.completed_at > COMPLETE_S:
            return self.collect_complete()
        thresholds, counts = gc.get_threshold(), gc.get_count()
        if counts[0] <= thresholds[0]:
            return 0
        if counts[0] > BURST:  # a thread is building something big: freeze it rather than walk it
            gc.freeze()
            return 0
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 2 if counts[2] > thresholds[2] else 1
        found = gc.collect(generation)
        if generation == 2:
            gc.freeze()  # the survivors are long-lived: the next full collection skips them
        return found

    def collect_complete(self) -> int:
        """A full collection of everything, the long-lived objects too; returns the objects found."""
        gc.unfreeze()
        found = gc.collect(2)
        gc.freeze()
        self.completed_at = time.monotonic()
        return found

    def _on_state_changed(self, state: Qt.ApplicationState) -> None:
        if state != Qt.ApplicationState.ApplicationActive and \
                time.monotonic() - self.completed_at > INACTIVE_COMPLETE_S:
            self.collect_complete()


def collect_on_ui_thread(app: QCoreApplication) -> UiThreadCollector:
    """Installs the collector once per application (called on the UI thread)."""
    found = app.findChild(UiThreadCollector, "ui-thread-collector")
    return found if isinstance(found, UiThreadCollector) else UiThreadCollector(app)
