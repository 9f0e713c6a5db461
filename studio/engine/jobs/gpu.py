"""One GPU lock per machine, shared by every job that uses this machine's GPU."""
from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock


def gpu_lock_path() -> Path:
    # Machine-wide on purpose: two data folders on one machine still share one GPU.
    return Path(tempfile.gettempdir()) / "influencerai-studio-gpu.lock"


@contextlib.contextmanager
def gpu_lock(*, timeout: float = -1) -> Iterator[None]:
    with FileLock(str(gpu_lock_path()), timeout=timeout):
        yield
