"""Starts, watches and stops a local ComfyUI when the settings point at its folder.

``comfyui.folder`` names a ComfyUI checkout (it holds ``main.py``). The supervisor runs
``python main.py --listen HOST --port PORT *extra_args`` there, without a shell, in a process
group of its own, with stdout and stderr appended to ``logs/comfyui.log``; it waits until
``GET /system_stats`` answers. Jobs call ``ensure_running()`` before they talk to ComfyUI: a
process that died is started again (and the restart is logged). ``stop()`` sends SIGTERM to the
whole group and SIGKILL after a grace period. Without a folder the studio only connects to
``comfyui.url`` and no supervisor is needed (``ComfySupervisor.configured(settings)``).
"""
from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path

from studio.engine.comfyui.client import ComfyClient
from studio.engine.config import Settings
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.jobs.errors import JobFailed
from studio.engine.process_group import own_group
from studio.resources import tool_python

log = logging.getLogger(__name__)

LOG_FILE = "comfyui.log"
_POLL_S = 0.2
_IS_WINDOWS = sys.platform == "win32"


class ComfyStartFailed(JobFailed):
    """The local ComfyUI exited while starting, or did not answer in time; the log tail says why."""


class ComfySupervisor:
    def __init__(self, settings: Settings, logs_dir: Path) -> None:
        self.settings = settings
        self.logs_dir = Path(logs_dir)
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()

    @staticmethod
    def configured(settings: Settings) -> bool:
        """True when the settings name a local ComfyUI folder to supervise."""
        return bool(settings.comfyui.folder.strip())

    # What runs ------------------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        raw = self.settings.comfyui.folder.strip()
        if not raw:
            raise InvalidInput("No ComfyUI folder is set (comfyui.folder).")
        folder = Path(raw).expanduser()
        if not folder.is_dir():
            raise InvalidInput(f"The ComfyUI folder {folder} does not exist.")
        if not (folder / "main.py").is_file():
            raise InvalidInput(f"The ComfyUI folder {folder} has no main.py.")
        return folder.resolve()

    @property
    def log_file(self) -> Path:
        return self.logs_dir / LOG_FILE

    @property
    def url(self) -> str:
        return local_url(self.settings)

    def python(self) -> str:
        chosen = self.settings.comfyui.python.strip()
        if chosen:
            return str(Path(chosen).expanduser())
        for venv in ("venv", ".venv"):
            for candidate in (self.folder / venv / "bin" / "python",
                              self.folder / venv / "Scripts" / "python.exe"):
                if candidate.is_file():
                    return str(candidate)
        return tool_python()

    def command(self) -> list[str]:
        cfg = self.settings.comfyui
        try:
            extra = shlex.split(cfg.extra_args)
        except ValueError as exc:
            raise InvalidInput(f"comfyui.extra_args cannot be split: {exc}.") from exc
        return [self.python(), str(self.folder / "main.py"), "--listen", cfg.listen.strip() or "127.0.0.1",
                "--port", str(cfg.port), *extra]

    # Life cycle -----------------------------------------------------------------------------------

    def running(self) -> bool:
        with self._lock:
            return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self.running() and self._proc else None

    def answers(self, timeout_s: float = 2.0) -> bool:
        """True when something answers GET /system_stats at ``url``."""
        try:
            with ComfyClient(self.url, timeout=timeout_s) as client:
                client.system_stats()
            return True
        except StudioError:
            return False

    def start(self, timeout_s: float = 120) -> None:
        """Starts ComfyUI and waits until it answers; nothing happens when it already runs."""
        with self._lock:
            if self.running():
                return
            command = self.command()
            folder = self.folder
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            with open(self.log_file, "ab") as out:
                stamp = datetime.now().isoformat(timespec="seconds")
                out.write(f"\n--- {stamp} starting ComfyUI: {shlex.join(command)}\n".encode())
                out.flush()
                try:
                    self._proc = subprocess.Popen(
                        command, cwd=folder, stdin=subprocess.DEVNULL, stdout=out,
                        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                        **own_group())
                except OSError as exc:
                    raise ComfyStartFailed(f"ComfyUI could not be started ({command[0]}): "
                                           f"{exc.strerror or exc}.") from exc
            log.info("Started ComfyUI (pid %s) in %s: %s", self._proc.pid, folder, shlex.join(command))
            self._wait_until_ready(self._proc, timeout_s)

    def _wait_until_ready(self, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            code = proc.poll()
            if code is not None:
                raise ComfyStartFailed(self._failure(f"ComfyUI exited with code {code} while starting."))
            if self.answers(timeout_s=min(2.0, max(0.2, deadline - time.monotonic()))):
                log.info("ComfyUI answers at %s", self.url)
                return
            if time.monotonic() >= deadline:
                self.stop()
                raise ComfyStartFailed(self._failure(
                    f"ComfyUI did not answer at {self.url} within {timeout_s:g} s and was stopped."))
            time.sleep(_POLL_S)

    def _failure(self, headline: str) -> str:
        tail = [line for line in self.log_tail(10) if line.strip()]
        where = f" (log: {self.log_file})"
        return headline + where + ("\nLast lines of its log:\n" + "\n".join(tail) if tail else "")

    def ensure_running(self, timeout_s: float = 120) -> None:
        """Starts ComfyUI unless it runs; a process that died is restarted and the restart logged.

        When no process of ours runs but something already answers at ``url`` (a ComfyUI the
        user started by hand), that one is used as it is.
        """
        with self._lock:
            if self.running():
                return
            if self._proc is not None:
                code = self._proc.returncode
                self._proc = None
                self.restarts += 1
                message = f"ComfyUI exited unexpectedly (code {code}); restarting it."
                log.warning(message)
                self._note(message)
            elif self.answers():
                log.info("A ComfyUI not started by the studio answers at %s; using it.", self.url)
                return
            self.start(timeout_s=timeout_s)

    def stop(self, grace_s: float = 10) -> None:
        """SIGTERM to ComfyUI's process group, SIGKILL after ``grace_s``; a no-op when not running."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.poll() is not None:
                _kill_group(proc, signal.SIGKILL if not _IS_WINDOWS else None)  # stray children
                return
            log.info("Stopping ComfyUI (pid %s)", proc.pid)
            _kill_group(proc, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
            while not _IS_WINDOWS and _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.05)  # children of ComfyUI get the same grace period
            if proc.poll() is None or (not _IS_WINDOWS and _group_alive(proc.pid)):
                log.warning("ComfyUI did not stop within %g s; killing it.", grace_s)
                _kill_group(proc, signal.SIGKILL if not _IS_WINDOWS else None)
            proc.wait()
            self._note(f"ComfyUI stopped (code {proc.returncode}).")

    def log_tail(self, n: int = 50) -> list[str]:
        """The last ``n`` lines of ``logs/comfyui.log`` (empty when there is none yet)."""
        return read_log_tail(self.log_file, n)

    def _note(self, message: str) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().isoformat(timespec="seconds")
        with open(self.log_file, "a", encoding="utf-8") as out:
            out.write(f"--- {stamp} {message}\n")


def read_log_tail(log_file: Path, n: int) -> list[str]:
    """The last ``n`` lines of a log that may be large and still growing."""
    try:
        with open(log_file, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max(n, 1) * 400 - 4096))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []
    return list(deque(lines, maxlen=n)) if n > 0 else []


def _kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals | None) -> None:
    """Signals the whole group (the leader's pid is its id); on Windows terminate/kill the process."""
    if _IS_WINDOWS:
        if proc.poll() is None:
            proc.terminate() if sig == signal.SIGTERM else proc.kill()
        return
    try:
        os.killpg(proc.pid, sig or signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process of the group remains."""
    proc_dir = Path("/proc")
    if proc_dir.is_dir():
        for entry in proc_dir.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                return True
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


_supervisors: dict[tuple[str, int], ComfySupervisor] = {}
_supervisors_lock = threading.Lock()


def local_url(settings: Settings) -> str:
    """Where the supervised ComfyUI answers: its listen address (any-address → loopback), port."""
    cfg = settings.comfyui
    host = cfg.listen.strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{cfg.port}"


def comfy_url(settings: Settings) -> str:
    """Where ComfyUI answers: the supervised local one when a folder is set, else comfyui.url."""
    return local_url(settings) if ComfySupervisor.configured(settings) else settings.comfyui.url


def supervisor_for(settings: Settings, logs_dir: Path) -> ComfySupervisor | None:
    """This process's supervisor of the configured local ComfyUI (one per folder and port)."""
    if not ComfySupervisor.configured(settings):
        return None
    key = (settings.comfyui.folder, settings.comfyui.port)
    with _supervisors_lock:
        if key not in _supervisors:
            _supervisors[key] = ComfySupervisor(settings, logs_dir)
        return _supervisors[key]


def stop_all(grace_s: float = 10) -> None:
    """Stops every ComfyUI this process started (the worker calls it when it stops)."""
    with _supervisors_lock:
        supervisors = list(_supervisors.values())
        _supervisors.clear()
    for supervisor in supervisors:
        supervisor.stop(grace_s=grace_s)
