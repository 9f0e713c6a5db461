from __future__ import annotations

import threading

import pytest
from filelock import Timeout

from studio.engine.jobs.gpu import gpu_lock


def test_gpu_lock_is_exclusive_across_holders() -> None:
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gpu_lock():
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    try:
        # filelock is re-entrant per thread-owned object, so a second holder uses its own lock
        from filelock import FileLock
        from studio.engine.jobs.gpu import gpu_lock_path
        with pytest.raises(Timeout):
            FileLock(str(gpu_lock_path()), timeout=0.2, thread_local=False, is_singleton=False).acquire()
    finally:
        release.set()
        holder.join(10)
