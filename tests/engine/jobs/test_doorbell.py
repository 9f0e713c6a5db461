"""The doorbell: whoever queues a job wakes the local worker's idle consumers at once."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.jobs.doorbell import Doorbell, DoorbellListener, DoorbellSender
from studio.engine.media.thumbnails import ThumbnailPayload


def test_a_ring_wakes_every_sleeper_and_a_quiet_bell_times_out() -> None:
    bell = Doorbell()
    woken: list[bool] = []
    sleepers = [threading.Thread(target=lambda: woken.append(bell.wait(5.0))) for _ in range(3)]
    for thread in sleepers:
        thread.start()
    time.sleep(0.1)
    bell.ring()
    for thread in sleepers:
        thread.join(2)
    assert woken == [True, True, True]
    assert bell.wait(0.05) is False


def test_enqueue_rings_the_worker_named_in_the_info_file(studio: Studio) -> None:
    bells = {name: Doorbell() for name in studio.queues.doorbells}
    listener = DoorbellListener(bells)
    listener.start()
    rung = threading.Event()
    waiter = threading.Thread(target=lambda: bells["general"].wait(5.0) and rung.set())
    waiter.start()
    try:
        studio.paths.run_dir.mkdir(parents=True, exist_ok=True)
        (studio.paths.run_dir / "worker.json").write_text(json.dumps({"doorbell_port": listener.port}))
        time.sleep(0.05)
        studio.jobs.submit(studio.workspace().id, "make-thumbnails", ThumbnailPayload(files=(Path("a.png"),)))
        assert rung.wait(2), "the general queue's bell did not ring"
    finally:
        listener.close()
        waiter.join(5)


def test_ring_without_a_worker_is_silent(tmp_path: Path) -> None:
    for name, text in (("missing.json", None), ("bad.json", "{not json"),
                       ("stale.json", json.dumps({"doorbell_port": 9}))):  # nobody listens: no error
        if text is not None:
            (tmp_path / name).write_text(text)
        sender = DoorbellSender(tmp_path / name)
        sender.ring("general")
        sender.close()


class _HeardBell(Doorbell):
    def __init__(self) -> None:
        super().__init__()
        self.heard = threading.Event()

    def ring(self) -> None:
        super().ring()
        self.heard.set()


def test_a_worker_started_again_is_rung_at_its_new_port(tmp_path: Path) -> None:
    """The sender reads the info file again once it changed, not before every ring."""
    info = tmp_path / "worker.json"
    sender = DoorbellSender(info)
    try:
        for started_by in ("app", "headless"):  # a worker, then one started after it on another port
            bell = _HeardBell()
            listener = DoorbellListener({"general": bell})
            listener.start()
            info.write_text(json.dumps({"doorbell_port": listener.port, "started_by": started_by}))
            sender.ring("general")
            assert bell.heard.wait(2), "the worker's bell did not ring"
            listener.close()
    finally:
        sender.close()
