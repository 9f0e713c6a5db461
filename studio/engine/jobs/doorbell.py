"""Wakes the local worker's idle consumers the moment a job is queued.

Huey's consumers poll their queue and back off while it is empty (up to a second here), so a
job submitted to an idle worker would wait for the next poll. The worker listens on a UDP port
on 127.0.0.1 (its number is in the worker's info file); whoever enqueues sends the queue's name
there, and that queue's sleeping consumer threads look again at once. A lost datagram costs
nothing but the poll it would have saved; workers on other machines keep polling.
"""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from huey.consumer import Consumer, Worker

from studio.engine.fsutil import FileStamp

_MAX_NAME = 64


class Doorbell:
    """One per queue: consumer threads sleep on it between polls; a ring wakes them all."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._rings = 0

    def ring(self) -> None:
        with self._condition:
            self._rings += 1
            self._condition.notify_all()

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """True when rung (or ``stop`` set: read under the lock a stop rings with) in time."""
        with self._condition:
            seen = self._rings
            return self._condition.wait_for(
                lambda: self._rings != seen or (stop is not None and stop.is_set()), timeout)


class _Worker(Worker):  # type: ignore[misc]  # huey ships no type information
    doorbell: Doorbell
    delay: float  # huey's backoff state, set in its __init__

    def sleep(self) -> None:
        self.delay = min(self.delay, self.max_delay)
        if self.doorbell.wait(self.delay, self.stop_flag) or self.stop_flag.is_set():
            self.delay = self.default_delay
        else:
            self.delay *= self.backoff


class DoorbellConsumer(Consumer):  # type: ignore[misc]  # huey ships no type information
    """Huey's consumer whose idle worker threads wake on their queue's doorbell."""

    def __init__(self, huey: object, doorbell: Doorbell, **options: object) -> None:
        self.doorbell = doorbell  # before Consumer.__init__, which creates the workers
        super().__init__(huey, **options)

    def _create_worker(self) -> Worker:
        worker = _Worker(huey=self.huey, stop_flag=self.stop_flag, default_delay=self.default_delay,
                         max_delay=self.max_delay, backoff=self.backoff, max_tasks=self.max_tasks)
        worker.doorbell = self.doorbell
        return worker

    def stop(self, graceful: bool = False) -> None:
        # Before the join: sleepers notice the stop flag now, not after their delay (up to a
        # second per consumer, one after another, which made an idle worker slow to stop).
        self.stop_flag.set()
        self.doorbell.ring()
        super().stop(graceful=graceful)


class DoorbellListener:
    """The worker's end: a UDP socket on 127.0.0.1 and a thread ringing the named queue's bell."""

    def __init__(self, doorbells: dict[str, Doorbell]) -> None:
        self.doorbells = doorbells
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._listen, name="doorbell", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._socket.close()  # recvfrom fails, and the thread ends

    def _listen(self) -> None:
        while True:
            try:
                data, _ = self._socket.recvfrom(_MAX_NAME)
            except OSError:
                return
            bell = self.doorbells.get(data.decode("ascii", "replace"))
            if bell is not None:
                bell.ring()


class DoorbellSender:
    """Whoever enqueues: rings the worker that ``info_file`` describes, silent when none runs.

    The file is read again only when it changed (a stat, not a read and a JSON parse, on every
    submit), and one socket sends every ring."""

    def __init__(self, info_file: Path) -> None:
        self.info_file = info_file
        self._stamp: FileStamp | None = None
        self._port: int | None = None
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def ring(self, queue: str) -> None:
        port = self._current_port()
        if port is None:
            return
        with self._lock:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self._socket.sendto(queue.encode("ascii"), ("127.0.0.1", port))
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def _current_port(self) -> int | None:
        stamp = FileStamp.of(self.info_file)
        if stamp is None:  # no worker: whichever starts next is read afresh
            self._stamp = self._port = None
            return None
        if stamp != self._stamp:
            self._port, self._stamp = _read_port(self.info_file), stamp
        return self._port


def _read_port(info_file: Path) -> int | None:
    try:
        return int(json.loads(info_file.read_text(encoding="utf-8"))["doorbell_port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
