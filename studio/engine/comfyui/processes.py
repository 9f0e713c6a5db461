"""Processes the studio stops without being their parent: who a pid is, and its process group.

A pid alone is no identity: once a process ends, its number is handed out again. On Linux the
start time in ``/proc/PID/stat`` (field 22, clock ticks since boot) tells a reused pid apart;
on other POSIX systems the stamp has no start time and a live pid counts as the same process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_STATE, _START_TIME = 0, 19  # indexes in /proc/PID/stat after the ")" that ends the command name
_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class ProcessStamp:
    pid: int
    started: str | None  # the /proc start time; None where the system does not tell

    @classmethod
    def of(cls, pid: int) -> ProcessStamp | None:
        """The stamp of a live process, or None when no such process runs."""
        if pid <= 0:
            return None
        fields = _stat_fields(pid)
        if fields is not None:
            return cls(pid, fields[_START_TIME]) if fields[_STATE] not in ("Z", "X") else None
        return cls(pid, None) if not _PROC.is_dir() and _pid_exists(pid) else None

    @classmethod
    def current(cls) -> ProcessStamp:
        return cls.of(os.getpid()) or cls(os.getpid(), None)

    def alive(self) -> bool:
        """True while this very process runs (a reused pid with another start time is not it)."""
        now = ProcessStamp.of(self.pid)
        return now is not None and (self.started is None or now.started == self.started)


def group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process of the group remains."""
    if _PROC.is_dir():
        for entry in _PROC.iterdir():
            if entry.name.isdigit():
                fields = _stat_fields(int(entry.name))
                if fields is not None and fields[2] == str(pgid) and fields[_STATE] not in ("Z", "X"):
                    return True
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(pgid: int, grace_s: float) -> bool:
    """SIGTERM to a group that is not our child, SIGKILL after ``grace_s``; True when killed."""
    if sys.platform == "win32":  # never called there: the studio hands nothing over on Windows
        return False
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    if not group_alive(pgid):
        return False
    signal_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    return True


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields if len(fields) > _START_TIME else None


def _pid_exists(pid: int) -> bool:
    if sys.platform == "win32":
        return False  # os.kill would end the process there; Windows keeps no hand-over records
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_child_group(proc: subprocess.Popen[bytes], sig: signal.Signals | None) -> None:
    """Signals a child's whole group (the leader's pid is its id); on Windows terminate/kill it."""
    if sys.platform == "win32":
        if proc.poll() is None:
            proc.terminate() if sig == signal.SIGTERM else proc.kill()
        return
    signal_group(proc.pid, sig or signal.SIGKILL)
