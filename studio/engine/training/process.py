"""sd-scripts as a child process: no shell, its own process group, output read as it comes.

A reader thread moves whatever the pipe holds into a queue, so the caller can wait with a
timeout (to check for cancel while a trainer stays silent) on every platform. ``stop()`` sends
SIGTERM to the whole group (accelerate, the trainer, its data-loader workers) and SIGKILL after
a grace period, then waits until no member of the group is left.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from studio.engine.jobs.errors import JobFailed
from studio.engine.process_group import own_group

READ_SIZE = 64 * 1024
_IS_WINDOWS = sys.platform == "win32"
EOF = b""


class LaunchFailed(JobFailed):
    """The trainer could not be started at all (a missing Python, a bad folder)."""


class TrainerProcess:
    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[bytes] | None = None
        self._chunks: queue.Queue[bytes] = queue.Queue()
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         env=self.env, **own_group())
        except OSError as exc:
            raise LaunchFailed(f"sd-scripts could not be started ({self.argv[0]} in {self.cwd}): "
                               f"{exc.strerror or exc}.") from exc
        self._reader = threading.Thread(target=self._read_all, name="trainer-output", daemon=True)
        self._reader.start()

    def read(self, timeout: float) -> bytes | None:
        """The next piece of output, ``EOF`` (b"") once the pipe closed, None after ``timeout``."""
        try:
            return self._chunks.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait(self, timeout: float | None = None) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self, grace_s: float = 10.0) -> None:
        """Ends the whole group: SIGTERM, then SIGKILL for whatever is left after ``grace_s``."""
        proc = self.proc
        if proc is None:
            return
        _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and (proc.poll() is None or group_alive(proc.pid)):
            time.sleep(0.05)
        if proc.poll() is None or group_alive(proc.pid):
            _signal_group(proc, signal.SIGKILL)
        proc.wait()
        end = time.monotonic() + 5
        while group_alive(proc.pid) and time.monotonic() < end:
            time.sleep(0.02)  # killed members are gone once the kernel has reaped them
        if self._reader is not None:
            self._reader.join(timeout=5)

    def _read_all(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        try:
            while True:
                data = os.read(fd, READ_SIZE)
                if not data:
                    break
                self._chunks.put(data)
        except OSError:
            pass
        finally:
            self._chunks.put(EOF)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if _IS_WINDOWS:  # no process groups to signal: end the tree's root
        if proc.poll() is None:
            proc.terminate() if sig == signal.SIGTERM else proc.kill()
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """True while a process of the group still runs (zombies waiting to be reaped do not count)."""
    if _IS_WINDOWS:
        return False
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():  # macOS: ask the kernel; a zombie still answers here
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    wanted = str(pgid)
    for entry in os.scandir(proc_dir):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (name) ": state, ppid, pgrp
        if len(fields) > 2 and fields[2] == wanted and fields[0] not in ("Z", "X"):
            return True
    return False
