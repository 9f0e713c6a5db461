"""Runs work off the UI thread and hands the outcome back on it.

    run_in_background(lambda: studio.jobs.list(ws), receiver=self,
                      on_done=self._on_jobs_loaded, on_error=self._on_load_failed)

The UI thread never waits on I/O. Database work goes through one thread (SQLite writes are
serialised anyway, and results then arrive in the order they were asked for); worker start and
stop through another, so a stop always follows the start it undoes; slow checks (network,
subprocesses) through a small pool of their own, so they never hold up the database lane.
"""
from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
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
# Bumped by drop_queued: a task made under an older number skips its work when it starts and
# reports itself dropped (a task cleared from a queue would never report back).
_generation: dict[str, int] = {}


@dataclass(slots=True)
class _Pending:
    """What a task needs back on the UI thread; held here, on the UI thread, until it reports."""
    fn: Callable[[], Any] | None
    receiver: QObject | None
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None


# Only the UI thread adds and removes entries. The work's closure is held here as well as by its
# task, and the task lets go of it before it reports: the last reference to anything the closure
# holds (a page, a context) is always dropped on the UI thread. A QObject freed on a worker
# thread leaves its timers registered with the UI thread's event loop, which then crashes.
_pending: dict[int, _Pending] = {}
_tokens = itertools.count(1)


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
    token = next(_tokens)
    _pending[token] = _Pending(fn, receiver, on_done, on_error)
    task = _Task(token, fn, _dispatcher(), lane, _generation.get(lane, 0))
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
    return len(_pending)


class _Dispatcher(QObject):
    """One for the app, made on the UI thread: queued connections carry outcomes over to it."""

    finished = Signal(int, object, object)  # token, result, exception
    dropped = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self.dropped.connect(self._on_dropped, Qt.ConnectionType.QueuedConnection)

    @Slot(int)
    def _on_dropped(self, token: int) -> None:
        _pending.pop(token, None)

    @Slot(int, object, object)
    def _on_finished(self, token: int, result: Any, error: BaseException | None) -> None:
        pending = _pending.pop(token, None)
        if pending is None:
            return
        receiver = pending.receiver
        if receiver is not None and not shiboken6.isValid(receiver):
            return
        if error is None:
            if pending.on_done is not None:
                pending.on_done(result)
        elif pending.on_error is not None:
            pending.on_error(error)
        else:
            from studio.ui.errors import show_error
            parent = receiver if receiver is not None and receiver.isWidgetType() else None
            show_error(parent, error)  # type: ignore[arg-type]


_made: list[_Dispatcher] = []


def _dispatcher() -> _Dispatcher:
    if not _made:
        _made.append(_Dispatcher())
    return _made[0]


class _Task(QRunnable):
    def __init__(self, token: int, fn: Callable[[], Any], dispatcher: _Dispatcher, lane: str,
                 generation: int) -> None:
        super().__init__()
        self._token = token
        self._fn: Callable[[], Any] | None = fn
        self._dispatcher = dispatcher
        self._lane = lane
        self._generation = generation

    def run(self) -> None:
        fn, self._fn = self._fn, None
        if fn is None or self._generation < _generation.get(self._lane, 0):  # dropped while it waited
            del fn
            self._dispatcher.dropped.emit(self._token)
            return
        try:
            result, error = fn(), None
        except BaseException as exc:  # everything goes back to the UI thread, nothing is lost
            log.debug("background task failed", exc_info=True)
            traceback.clear_frames(exc.__traceback__)  # its frames' locals stay on this thread
            result, error = None, exc
        del fn  # before the report: the UI thread's entry is then the last reference to it
        self._dispatcher.finished.emit(self._token, result, error)
