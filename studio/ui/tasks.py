"""Runs work off the UI thread and hands the outcome back on it.

    run_in_background(lambda: studio.jobs.list(ws), receiver=self,
                      on_done=self._on_jobs_loaded, on_error=self._on_load_failed)

The UI thread never waits on I/O. Database work goes through one thread (SQLite writes are
serialised anyway, and results then arrive in the order they were asked for); worker start and
stop through another, so a stop always follows the start it undoes; slow checks (network,
subprocesses) through a small pool of their own, so they never hold up the database lane.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from studio.ui import probes

Lane = Literal["db", "worker", "io", "live", "probe"]
# "live": the change watcher and the job hub, so a long database task never delays what views show.
# "probe": read-only checks of other machines; daemon threads the app's exit never waits for.
_LANE_THREADS: dict[str, int] = {"db": 1, "worker": 1, "io": 2, "live": 1}

log = logging.getLogger("studio.ui.tasks")
_pools: dict[str, QThreadPool] = {}
_in_flight: set[_Relay] = set()
# Bumped by drop_queued: a task made under an older number skips its work when it starts, and
# its relay leaves _in_flight (a task cleared from a queue would never report back).
_generation: dict[str, int] = {}


def pool(lane: Lane) -> QThreadPool:
    if lane not in _pools:
        created = QThreadPool()
        created.setMaxThreadCount(_LANE_THREADS[lane])
        _pools[lane] = created
    return _pools[lane]


def run_in_background(fn: Callable[[], Any], *, receiver: QObject | None,
                      on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      lane: Lane = "db") -> None:
    """Calls ``fn`` on a worker thread; ``on_done(result)`` or ``on_error(exc)`` run on the UI thread.

    Callbacks are dropped when ``receiver`` (the widget that asked) was deleted meanwhile.
    Without ``on_error``, a failure is shown with ``show_error``.
    """
    relay = _Relay(receiver, on_done, on_error)
    _in_flight.add(relay)
    task = _Task(fn, relay, lane, _generation.get(lane, 0))
    (probes.lane() if lane == "probe" else pool(lane)).start(task)


def wait_until_idle(timeout_ms: int = 30_000, *, with_probes: bool = True) -> bool:
    """Blocks until every lane is empty (the app's end leaves the probes out); for the end of
    the app and of tests only."""
    return (all(p.waitForDone(timeout_ms) for p in _pools.values())
            and (not with_probes or probes.lane().wait_until_idle(timeout_ms / 1000)))


def drop_queued(*lanes: Lane) -> None:
    """Forgets work not yet started on ``lanes`` (reads whose answers nobody will see once the
    app quits); what already runs finishes."""
    for lane in lanes:
        _generation[lane] = _generation.get(lane, 0) + 1


def in_flight() -> int:
    return len(_in_flight)


class _Relay(QObject):
    """Lives on the UI thread; the queued connection carries the outcome over to it."""

    finished = Signal(object, object)  # result, exception
    dropped = Signal()

    def __init__(self, receiver: QObject | None, on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None) -> None:
        super().__init__()
        self._receiver = receiver
        self._on_done = on_done
        self._on_error = on_error
        self.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self.dropped.connect(self._on_dropped, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _on_dropped(self) -> None:
        _in_flight.discard(self)

    @Slot(object, object)
    def _on_finished(self, result: Any, error: BaseException | None) -> None:
        _in_flight.discard(self)
        if self._receiver is not None and not shiboken6.isValid(self._receiver):
            return
        if error is None:
            if self._on_done is not None:
                self._on_done(result)
        elif self._on_error is not None:
            self._on_error(error)
        else:
            from studio.ui.errors import show_error
            parent = self._receiver if self._receiver is not None and self._receiver.isWidgetType() else None
            show_error(parent, error)  # type: ignore[arg-type]


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay, lane: str, generation: int) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay
        self._lane = lane
        self._generation = generation

    def run(self) -> None:
        if self._generation < _generation.get(self._lane, 0):  # dropped while it waited
            self._relay.dropped.emit()
            return
        try:
            result = self._fn()
        except BaseException as exc:  # everything goes back to the UI thread, nothing is lost
            log.debug("background task failed", exc_info=True)
            self._relay.finished.emit(None, exc)
            return
        self._relay.finished.emit(result, None)
