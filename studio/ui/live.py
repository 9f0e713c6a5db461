"""The app's one ear for changes: this process's writes and those of every other process.

``LiveState.changed`` carries a ``ChangeSet``; views connect to it and reload what it touches:

    context.live.changed.connect(self._on_changed)

    def _on_changed(self, changes: ChangeSet) -> None:
        if changes.touches(Entity.DATASET, workspace_id=self.context.workspace_id):
            self.reload()

Writes made in this process arrive through the database's ``ChangeBus`` (from whichever thread
committed them); the rest through one ``ChangeWatcher`` read on the "live" lane a few times a
second. Changes heard together are delivered as one set, once per turn of the event loop.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, Signal

from studio.engine.comfyui.user_workflows import workflows_dir
from studio.engine.core import SavedSettings, Studio
from studio.engine.db.changes import Change, ChangeSet, Entity, merge
from studio.engine.db.watcher import ChangeWatcher
from studio.ui.tasks import run_in_background
from studio.ui.timers import repeating_timer, single_shot_timer

log = logging.getLogger("studio.ui.live")
WATCH_MS = 400
TIMER_NAME = "change-watcher"


class LiveState(QObject):
    changed = Signal(object)  # ChangeSet
    _heard = Signal(object)  # Sequence[Change], from any thread

    def __init__(self, studio: Studio, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self._watcher: ChangeWatcher | None = None
        self._pending: list[Change] = []
        self._busy = False
        self._heard.connect(self._on_heard, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = studio.db.changes.subscribe(self._heard.emit)
        self._flush = single_shot_timer(self, interval_ms=0)
        self._flush.timeout.connect(self._on_flush)
        self._timer = repeating_timer(self, name=TIMER_NAME, interval_ms=WATCH_MS)
        self._timer.timeout.connect(self.poll)

    def start(self) -> None:
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()
        self._unsubscribe()

    def poll(self) -> None:
        """Reads other processes' changes off the UI thread; one read at a time."""
        if self._busy:
            return
        self._busy = True
        run_in_background(self._read, receiver=self, lane="live", on_done=self._on_read,
                          on_error=self._on_read_failed)

    def _read(self) -> tuple[list[Change], SavedSettings | None]:
        if self._watcher is None:  # made on the lane: it reads the files' first stamps
            paths = self.studio.paths
            self._watcher = ChangeWatcher(self.studio.db, files={
                Entity.SETTINGS: paths.settings_file, Entity.TEMPLATE: workflows_dir(paths)})
            self._watcher.prune()
        changes = self._watcher.poll()
        saved = None
        if any(change.entity is Entity.SETTINGS for change in changes):
            saved = self.studio.settings_saved_elsewhere()  # read here, applied on the UI thread
        return changes, saved

    def _on_read(self, found: tuple[list[Change], SavedSettings | None]) -> None:
        self._busy = False
        changes, saved = found
        if saved is not None:
            self.studio.adopt_settings(saved)
        self._on_heard(changes)

    def _on_read_failed(self, exc: BaseException) -> None:
        self._busy = False  # the database is away for a moment; the next tick tries again
        log.debug("reading changes failed: %s", exc)

    def _on_heard(self, changes: Sequence[Change]) -> None:
        if changes:
            self._pending.extend(changes)
            self._flush.start()

    def _on_flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            self.changed.emit(ChangeSet(tuple(merge(pending))))
