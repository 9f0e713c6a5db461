"""Cyclic garbage holding Qt objects is collected on the UI thread, never on a task's thread."""
from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject, Qt, QTimer

from studio.ui.collector import BURST, COMPLETE_S, UiThreadCollector, collect_on_ui_thread


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
    gc.collect()  # what earlier tests left is not counted as new (past BURST it would be frozen)
    holder = _Holder()
    gone = weakref.ref(holder)
    del holder
    freed_on: list[str] = []
    kept: list[object] = []

    def allocate() -> None:  # a busy task thread: past the collector's first threshold
        kept.extend([i] for i in range(BURST // 4))
        freed_on.append("task" if gone() is None else "")
    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert freed_on == [""]  # the task's allocations did not collect it on that thread
    qtbot.waitUntil(lambda: gone() is None, timeout=5_000)  # the UI thread's timer did


def test_survivors_of_a_full_collection_are_frozen_and_a_complete_collection_frees_their_cycles(
        qapp) -> None:  # type: ignore[no-untyped-def]
    collector = collect_on_ui_thread(qapp)
    holder = _Holder()  # alive during a collection: long-lived from then on
    gone = weakref.ref(holder)
    collector.collect_complete()
    assert gc.get_freeze_count() > 0
    del holder
    gc.collect(2)  # what a full collection of the timer does: the frozen cycle is not walked
    assert gone() is not None
    collector.collect_complete()
    assert gone() is None
    assert gc.get_freeze_count() > 0  # and what is still alive is frozen again


def test_losing_focus_makes_a_complete_collection_at_most_once_a_minute(qapp) -> None:  # type: ignore[no-untyped-def]
    collector = collect_on_ui_thread(qapp)
    holder = _Holder()
    gone = weakref.ref(holder)
    collector.collect_complete()
    del holder
    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationInactive)
    assert gone() is not None  # a complete collection was made a moment ago
    collector.completed_at -= 61
    qapp.applicationStateChanged.emit(Qt.ApplicationState.ApplicationInactive)
    assert gone() is None


def test_a_burst_of_new_objects_is_frozen_not_walked_and_its_cycles_wait_for_a_complete_collection(
        qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    collector = collect_on_ui_thread(qapp)
    collector.collect_complete()
    before = gc.get_freeze_count()
    holder = _Holder()
    gone = weakref.ref(holder)
    del holder
    built = [[i] for i in range(BURST + 1_000)]  # a thread's big structure, alive
    assert collector.collect_due() == 0
    assert gc.get_freeze_count() >= before + BURST and gc.get_count()[0] < 100
    assert gone() is not None and len(built) == BURST + 1_000  # frozen with the burst
    collector.completed_at -= COMPLETE_S + 1  # the complete collection is due: the timer makes it
    qtbot.waitUntil(lambda: gone() is None, timeout=5_000)
