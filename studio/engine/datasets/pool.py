"""Worker processes for per-picture work (decode, thumbnails, analysis) on every core.

Processes, not threads: face detection, the perceptual hash and Pillow's Python-side work hold
the GIL, so threads stayed near one core. The pool is started on first use and kept for the
life of the process (a worker's start costs the import of OpenCV, numpy and Pillow once; the
forkserver imports them before it forks, so each worker starts in milliseconds). It uses the
'forkserver' context on POSIX and 'spawn' elsewhere: the app calls the engine from worker
threads beside Qt's, and a plain fork of such a process may copy a held lock.

Only a few items are in flight per worker, so a folder of any size holds a bounded number of
files and decoded pictures in memory. One or two items, or one core, run in this process:
a single import does not wait for a worker to start.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import TypeVar

log = logging.getLogger("studio.datasets")

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")
IN_PROCESS_UP_TO = 2  # items a batch may have and still run here, without the pool
PER_WORKER = 4  # items in flight per worker: one slow picture leaves the others work to do
# One worker more than cores: a worker reading its file (staged copies are read around the page
# cache, from the disk) leaves its core to another. bench/datasets.py, quiet, 2 cores: import +
# analysis 48.7–49.5/s with a spare worker, 45.1–47.4/s without (the workers idle 8–10 %); on a
# slower hour of the shared host, alike (42.4 and 42.8/s).
SPARE_WORKERS = 1
# What the forkserver imports before it forks. imagehash imports SciPy's FFT on its first phash,
# which each worker would otherwise pay during its first pictures (0.1–1 s).
PRELOAD = ["studio.engine.datasets.ingest", "scipy.fftpack"]



class _Shared:
    """The one pool of this process, made on first use."""

    lock = threading.Lock()
    pool: ProcessPoolExecutor | None = None
    lifeline: tuple[Connection, Connection] | None = None  # the workers end when it closes
    owner = 0  # the process that made a pool: a forked child must not use its parent's


def cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _worker_start(lifeline: Connection) -> None:
    import cv2
    from PIL import Image
    cv2.setNumThreads(1)  # one process per core already; OpenCV's own threads would fight them
    Image.init()  # Pillow's format plugins, imported once here rather than during the first picture
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True).start()


def _exit_with_parent(lifeline: Connection) -> None:
    """Ends this worker when the process that made the pool is gone, however it ended (killed,
    ``os._exit``): a worker waiting for work would wait forever, and keep the forkserver too."""
    try:
        lifeline.recv_bytes()  # nothing is ever sent: this returns at end of file
    except (EOFError, OSError):
        pass
    os._exit(0)


def _shared() -> ProcessPoolExecutor | None:
    """The pool, made now if need be; None in a forked copy of a process that made one (the
    forkserver and the workers are the parent's), which then works in process."""
    with _Shared.lock:
        if _Shared.owner not in (0, os.getpid()):
            return None
        if _Shared.pool is None:
            method = "forkserver" if sys.platform != "win32" and sys.platform != "darwin" else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(PRELOAD)
            _Shared.owner = os.getpid()
            _Shared.lifeline = context.Pipe(duplex=False)  # (read end, write end)
            _Shared.pool = ProcessPoolExecutor(cores() + SPARE_WORKERS, mp_context=context, initializer=_worker_start,
                                               initargs=(_Shared.lifeline[0],))
        return _Shared.pool


def worker_ids() -> list[int]:
    """The process ids of this process's workers (none before the pool is made): for measuring."""
    with _Shared.lock:
        pool = _Shared.pool
        return sorted(pool._processes or {}) if pool is not None else []  # no public way to ask


def shutdown() -> None:
    """Stops the workers (at exit, or to free their memory); the next batch starts new ones."""
    with _Shared.lock:
        pool, _Shared.pool = _Shared.pool, None
        lifeline, _Shared.lifeline = _Shared.lifeline, None
    if _Shared.owner != os.getpid():  # a forked copy of the process that owns it: not ours
        return
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    _cut(lifeline)


atexit.register(shutdown)


def _forget(broken: ProcessPoolExecutor) -> None:
    """A worker died (killed, out of memory): the pool is unusable; the next use makes one."""
    lifeline = None
    with _Shared.lock:
        if _Shared.pool is broken:
            _Shared.pool = None
            lifeline, _Shared.lifeline = _Shared.lifeline, None
    broken.shutdown(wait=False, cancel_futures=True)
    _cut(lifeline)


def _cut(lifeline: tuple[Connection, Connection] | None) -> None:
    """Closes the pipe, so any worker still there ends."""
    for end in lifeline or ():
        end.close()


def map_ordered(items: Iterable[T], task: Callable[[T], A | None], work: Callable[[A], R], *,
                workers: int | None = None,
                total: int | None = None) -> Generator[tuple[T, R | ValueError | None], None, None]:
    """``(item, outcome)`` for each item, in the order given: ``work(task(item))`` run in a worker
    (its result, or the ValueError it raised), or None where ``task`` gave nothing to do.

    ``task`` runs here, just before its item is sent, so what it reads stays bounded too.
    ``work`` must be a module-level function and its argument and result picklable. ``total``
    is the number of items where ``items`` cannot say (a generator).
    """
    count = workers or cores()
    if total is None and isinstance(items, Sized):
        total = len(items)
    small = total is not None and total <= IN_PROCESS_UP_TO
    pool = None if small or count == 1 else _shared()
    pending: deque[tuple[T, A | None, Future[R] | None]] = deque()
    try:
        for item in items:
            argument = task(item)
            future = None
            if pool is not None and argument is not None:
                try:
                    future = pool.submit(work, argument)
                except BrokenProcessPool:
                    _forget(pool)
                    pool = None
            pending.append((item, argument, future))
            if len(pending) >= PER_WORKER * count:
                done = _outcome(pending.popleft(), work, pool)
                yield done
        while pending:
            rest = _outcome(pending.popleft(), work, pool)
            yield rest
    finally:  # canceled or stopped early: what has not started never will
        for _, _, future in pending:
            if future is not None:
                future.cancel()


def _outcome(entry: tuple[T, A | None, Future[R] | None], work: Callable[[A], R],
             pool: ProcessPoolExecutor | None) -> tuple[T, R | ValueError | None]:
    item, argument, future = entry
    if argument is None:
        return item, None
    try:
        if future is not None:
            try:
                return item, future.result()
            except BrokenProcessPool:  # this file is done here; the next batch gets a new pool
                log.warning("a picture worker stopped; the file is read in the main process")
                if pool is not None:
                    _forget(pool)
        return item, work(argument)
    except ValueError as exc:
        return item, exc
