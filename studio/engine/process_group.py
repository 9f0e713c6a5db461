"""Starting a child program in a process group of its own, so stopping it reaches its children too.

``tied_group`` also ties the child's life to this process on Linux: the kernel sends it SIGKILL
when the thread that started it dies (``prctl(PR_SET_PDEATHSIG)``), so a kill -9 of a worker or
a command line does not leave an FFmpeg encoding on. A watchdog process was the other choice; it
would be one more process to start per render, and one that can itself be killed first. The
prctl is one system call made in the child between fork and exec, through a function resolved
here beforehand, so the child imports and allocates nothing (what makes ``preexec_fn`` risky in a
threaded parent). The thread that starts the child must outlive it: ours wait for it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import TypedDict

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class GroupOptions(TypedDict):
    start_new_session: bool
    creationflags: int


class TiedOptions(GroupOptions):
    preexec_fn: Callable[[], None] | None


def own_group() -> GroupOptions:
    """Popen options for a new process group: a new session on POSIX, a new group on Windows."""
    if sys.platform == "win32":
        return {"start_new_session": False, "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True, "creationflags": 0}


def tied_group() -> TiedOptions:
    """``own_group`` plus, on Linux, death of the child when this process dies. Elsewhere the
    child outlives a killed parent; its partial output is swept on the next start instead."""
    prctl = _prctl()
    hook = _die_with_parent(prctl, os.getpid()) if prctl is not None else None
    return {**own_group(), "preexec_fn": hook}


def _die_with_parent(prctl: Callable[[int, int], int], parent: int) -> Callable[[], None]:
    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os.kill(os.getpid(), signal.SIGKILL)
    return in_child


@functools.cache
def _prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_ulong]
    function.restype = ctypes.c_int
    return function
