"""Cyclic garbage holding Qt objects is collected on the UI thread, never on a task's thread."""
from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject, QTimer

from studio.ui.collector import UiThreadCollector, collect_on_ui_thread


class _Holder:
    """A Python object in a cycle that owns a QObject with a running timer, like a closed page."""

    def __init__(self) -> None:
        self.me = self
        self.owner = QObject()
        self.timer = QTimer(self.owner)
        self.timer.start(10_000)


def test_the_collector_is_the_ui_threads_and_installed_once(qapp) -> None:  # type: ignore[no-untyped-def]
    first = collect_on_ui_thread(qapp)
    assert collect_on_ui_thread(qapp) is first and isinstance(first, UiThreadCollector)
    assert not gc.isenabled()


def test_cyclic_garbage_made_and_dropped_is_freed_by_the_ui_threads_timer(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    collect_on_ui_thread(qapp)
    holder = _Holder()
    gone = weakref.ref(holder)
    del holder
    freed_on: list[str] = []
    kept: list[object] = []

    def allocate() -> None:  # a busy task thread: far past the collector's first threshold
        kept.extend([i] for i in range(50_000))
        freed_on.append("task" if gone() is None else "")
    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert freed_on == [""]  # the task's allocations did not collect it on that thread
    qtbot.waitUntil(lambda: gone() is None, timeout=5_000)  # the UI thread's timer did
