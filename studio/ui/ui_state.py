"""What the user last had open, remembered per data folder: the UI's own small memory.

One JSON file, ``ui_state.json`` in the data folder, read once when the studio opens and
written atomically. Every page uses the same two calls on the context's store::

    state = context.ui_state
    state.remember("influencers/last/<workspace id>", str(influencer.id))
    last = state.recall("influencers/last/<workspace id>", None)

Keys are plain strings (say ``page/what``; add the workspace id when the value belongs to one
workspace); values are anything JSON can hold (strings, numbers, booleans, lists, dicts), so
ids go in as ``str(uuid)``. ``recall`` answers at once from memory. ``remember`` changes memory at
once and writes the file about a second later, off the UI thread, so typing into a form costs
no I/O; ``flush()`` writes what is still pending (the context calls it when the app closes).

A missing file is a first start; an unreadable or corrupt one is logged in one line and
ignored: what the user last had open is a convenience, never a reason not to start.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from studio.engine.fsutil import atomic_write_text
from studio.ui.tasks import run_in_background
from studio.ui.timers import single_shot_timer

STATE_FILE = "ui_state.json"
WRITE_DELAY_MS = 1000  # typing into a form writes once, after a pause

log = logging.getLogger(__name__)


def read_state(path: Path) -> dict[str, Any]:
    """The remembered values; empty when the file is missing, unreadable or not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("The UI state file %s could not be read (%s); starting fresh.", path, exc)
        return {}
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        log.warning("The UI state file %s is damaged (%s); starting fresh.", path, exc)
        return {}
    if not isinstance(loaded, dict):
        log.warning("The UI state file %s holds no object; starting fresh.", path)
        return {}
    return loaded


class UiState(QObject):
    """Remembered values, in memory at once and on disk after ``WRITE_DELAY_MS``."""

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._values = read_state(path)
        self._lock = threading.Lock()  # background writes may overlap; the newest one wins
        self._serial = 0  # bumped on each change
        self._written = 0  # the serial on disk
        self._timer = single_shot_timer(self, interval_ms=WRITE_DELAY_MS)
        self._timer.timeout.connect(self._on_write_due)

    def recall(self, key: str, default: Any = None) -> Any:
        """The value remembered under ``key`` (a copy: changing it changes nothing remembered)."""
        return copy.deepcopy(self._values[key]) if key in self._values else default

    def remember(self, key: str, value: Any) -> None:
        """Keeps ``value`` under ``key``; ``None`` forgets the key."""
        if value is None:
            if key not in self._values:
                return
            del self._values[key]
        else:
            json.dumps(value)  # refuses what the file could not hold, here rather than later
            if self._values.get(key) == value:
                return
            self._values[key] = copy.deepcopy(value)
        self._serial += 1
        self._timer.start()

    def pending(self) -> bool:
        return self._serial != self._written

    def flush(self) -> None:
        """Writes now, on this thread: for the app's end, when no later write will come."""
        self._timer.stop()
        if self.pending():
            self._write(self._serial, self._snapshot())

    def _on_write_due(self) -> None:
        serial, text = self._serial, self._snapshot()
        run_in_background(lambda: self._write(serial, text), receiver=self, lane="io",
                          on_error=self._on_write_failed)

    def _snapshot(self) -> str:
        return json.dumps(self._values, indent=1, sort_keys=True)

    def _write(self, serial: int, text: str) -> None:
        with self._lock:
            if serial <= self._written:
                return  # a newer state is already on disk
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, text)
            self._written = serial

    def _on_write_failed(self, exc: BaseException) -> None:
        # The next change tries again; losing the last page opened is no error to show.
        log.warning("The UI state file %s could not be written: %s", self.path, exc)
