"""The probe lane: read-only checks of silent servers never hold up the app's end, and their
answers still arrive on the UI thread while the app runs. Real threads, Events instead of sleeps."""
from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from studio.ui import tasks
from studio.ui.probes import THREADS
from studio.ui.tasks import run_in_background


def test_a_probe_answers_on_the_ui_thread(qtbot) -> None:
    receiver = QWidget()
    qtbot.addWidget(receiver)
    got: list[tuple[object, threading.Thread]] = []
    run_in_background(lambda: threading.current_thread().daemon, receiver=receiver, lane="probe",
                      on_done=lambda r: got.append((r, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got))
    assert got == [(True, threading.main_thread())]  # it ran on a daemon thread


def test_the_app_s_end_waits_for_no_probe_and_drops_those_not_started(qtbot) -> None:
    receiver = QWidget()
    qtbot.addWidget(receiver)
    silent_server = threading.Event()
    started = threading.Semaphore(0)
    ran: list[str] = []

    def probe(name: str) -> str:
        started.release()
        silent_server.wait(30)  # a ComfyUI that does not answer
        ran.append(name)
        return name

    for n in range(THREADS):
        run_in_background(lambda n=n: probe(f"busy {n}"), receiver=receiver, lane="probe")
    run_in_background(lambda: probe("queued"), receiver=receiver, lane="probe")
    for _ in range(THREADS):
        assert started.acquire(timeout=10)
    tasks.drop_queued("probe")
    assert tasks.wait_until_idle(5_000, with_probes=False)  # at once: the probes are not waited for
    assert ran == []
    silent_server.set()
    assert tasks.wait_until_idle(10_000)
    assert sorted(ran) == [f"busy {n}" for n in range(THREADS)]  # the queued one never ran
