"""The "probe" lane: read-only checks of other programs and machines (the status bar's health
round, ComfyUI's model lists), which wait for timeouts of seconds when a server does not answer.

Their threads are daemon threads, so quitting the app never waits for a ComfyUI that is off or
unreachable: what is queued is dropped, what runs is abandoned with the process. Nothing that
writes belongs here. ``tasks.run_in_background(..., lane="probe")`` puts work on it.
"""
from __future__ import annotations

import functools
import queue
import threading
from typing import Protocol

THREADS = 2


class Runnable(Protocol):
    def run(self) -> None: ...


class ProbeLane:
    def __init__(self, threads: int = THREADS) -> None:
        self._queue: queue.SimpleQueue[Runnable] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._size = threads
        self._busy = 0
        self._idle = threading.Condition()

    def start(self, task: Runnable) -> None:
        with self._idle:
            self._busy += 1
        if len(self._threads) < self._size:
            thread = threading.Thread(target=self._serve, name=f"probe-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()
        self._queue.put(task)

    def wait_until_idle(self, timeout_s: float) -> bool:
        """For tests and benchmarks: the app itself never waits for probes."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout_s)

    def _serve(self) -> None:
        while True:
            task = self._queue.get()
            try:
                task.run()  # it reports its own outcome, errors included
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()


@functools.cache
def lane() -> ProbeLane:
    """The app's one probe lane, made on first use."""
    return ProbeLane()
