"""The end of a studio process that is not the worker (a CLI verb, the app): its local ComfyUI.

A command that started the supervised ComfyUI (``generate image``, ``comfy run``, a job run in
this process) must not leave a server holding gigabytes of models behind with nobody to stop it.
When this data folder's worker runs, the ComfyUI is handed to it: the worker goes on using the
server that is up and stops it when it stops. Otherwise it is stopped now, as a creator who ran
one command expects.
"""
from __future__ import annotations

import logging
import os
import time

from studio.engine.comfyui.processes import ProcessStamp
from studio.engine.comfyui.supervisor import owns_any, release_all
from studio.engine.config import Paths
from studio.engine.errors import StudioError
from studio.engine.worker.process import local_worker

log = logging.getLogger(__name__)

_INFO_WAIT_S = 5.0


def release_local_comfyui(paths: Paths) -> None:
    """Hands the ComfyUI this process owns to the local worker, or stops it when none runs."""
    if not owns_any():
        return
    try:
        release_all(heir=worker_stamp(paths))
    except (OSError, StudioError) as exc:  # the command's own result stands; this is cleanup
        log.warning("The local ComfyUI could not be stopped or handed over: %s", exc)


def worker_stamp(paths: Paths) -> ProcessStamp | None:
    """The local worker of this data folder, when one runs and is another process.

    A worker that has just taken the lock writes its pid a moment later; that moment is waited
    for rather than stopping a ComfyUI the worker is about to use.
    """
    deadline = time.monotonic() + _INFO_WAIT_S
    while True:
        info = local_worker(paths)
        if info is None or info.pid == os.getpid():
            return None
        if info.pid > 0:
            return ProcessStamp.of(info.pid)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
