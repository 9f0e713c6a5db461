"""Background work: results come back on the UI thread, and never to a deleted widget."""
from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from studio.engine.errors import Conflict
from studio.ui import tasks
from studio.ui.tasks import run_in_background


def test_result_arrives_on_the_ui_thread(qtbot) -> None:
    receiver = QWidget()
    qtbot.addWidget(receiver)
    ran_on: list[threading.Thread] = []
    got: list[object] = []

    def work() -> int:
        ran_on.append(threading.current_thread())
        return 42

    run_in_background(work, receiver=receiver,
                      on_done=lambda r: got.append((r, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got))
    assert got == [(42, threading.main_thread())]
    assert ran_on and ran_on[0] is not threading.main_thread()


def test_failure_goes_to_on_error_or_to_show_error(qtbot, shown_errors: list[str]) -> None:
    receiver = QWidget()
    qtbot.addWidget(receiver)
    errors: list[BaseException] = []

    def fail() -> None:
        raise Conflict("Someone else changed it.")

    run_in_background(fail, receiver=receiver, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], Conflict)
    run_in_background(fail, receiver=receiver)
    qtbot.waitUntil(lambda: bool(shown_errors))
    assert shown_errors == ["Someone else changed it."]


def test_no_callback_reaches_a_deleted_receiver(qtbot) -> None:
    receiver = QWidget()
    gate = threading.Event()
    called: list[object] = []
    run_in_background(lambda: gate.wait(10), receiver=receiver, on_done=called.append)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(receiver))
    gate.set()
    qtbot.waitUntil(lambda: tasks.in_flight() == 0)
    assert called == []
