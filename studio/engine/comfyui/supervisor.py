"""Starts, watches and stops a local ComfyUI when the settings point at its folder.

``comfyui.folder`` names a ComfyUI checkout (it holds ``main.py``). The supervisor runs
``python main.py --listen HOST --port PORT *extra_args`` there, without a shell, in a process
group of its own, with stdout and stderr appended to ``logs/comfyui.log``; it waits until
``GET /system_stats`` answers. Jobs call ``ensure_running()`` before they talk to ComfyUI: a
process that died is started again (and the restart is logged). ``stop()`` sends SIGTERM to the
whole group and SIGKILL after a grace period. Without a folder the studio only connects to
``comfyui.url`` and no supervisor is needed (``ComfySupervisor.configured(settings)``).

Whoever starts ComfyUI owns it (see ``handover``): the worker stops its own when it stops; a
command-line process hands its own to the worker at exit (``release_all``) or stops it.
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
from pathlib import Path

from studio.engine.comfyui.client import ComfyClient
from studio.engine.comfyui.comfy_log import LOG_FILE, line_break, now_stamp, read_log_tail, write_note
from studio.engine.comfyui.handover import ComfyRecord, clear_record, read_record, write_record
from studio.engine.comfyui.processes import ProcessStamp, group_alive, kill_child_group, stop_group
from studio.engine.config import Settings
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.jobs.errors import JobFailed
from studio.engine.process_group import own_group
from studio.resources import tool_python

log = logging.getLogger(__name__)

_POLL_S = 0.2
_IS_WINDOWS = sys.platform == "win32"


class ComfyStartFailed(JobFailed):
    """The local ComfyUI exited while starting, or did not answer in time; the log tail says why."""


class ComfySupervisor:
    def __init__(self, settings: Settings, logs_dir: Path, *, run_dir: Path | None = None) -> None:
        self.settings = settings
        self.logs_dir = Path(logs_dir)
        # Paths keeps logs/ and run/ side by side in the data folder; the record lives in run/.
        self.run_dir = Path(run_dir) if run_dir is not None else self.logs_dir.parent / "run"
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._adopted: ProcessStamp | None = None  # a studio-started ComfyUI handed over to us
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
        """True while a ComfyUI this supervisor owns runs (one it started or was handed)."""
        with self._lock:
            if self._proc is not None:
                return self._proc.poll() is None
            return self._adopted is not None and self._adopted.alive()

    @property
    def pid(self) -> int | None:
        with self._lock:
            if not self.running():
                return None
            return self._proc.pid if self._proc is not None else self._adopted.pid if self._adopted else None

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
                stamp = now_stamp()
                out.write(f"{line_break(self.log_file)}\n--- {stamp} starting ComfyUI: "
                          f"{shlex.join(command)}\n".encode())
                out.flush()
                try:
                    self._proc = subprocess.Popen(
                        command, cwd=folder, stdin=subprocess.DEVNULL, stdout=out,
                        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                        **own_group())
                except OSError as exc:
                    raise ComfyStartFailed(f"ComfyUI could not be started ({command[0]}): "
                                           f"{exc.strerror or exc}.") from exc
            self._adopted = None
            self._record(ProcessStamp.of(self._proc.pid), ProcessStamp.current(), started_at=stamp)
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

        When no process of ours runs but something already answers at ``url``, that one is used
        as it is: a ComfyUI the user started by hand, or one another studio process owns. One
        whose studio owner has gone is taken over, so this process stops it later.
        """
        with self._lock:
            if self.running():
                return
            if self._proc is not None or self._adopted is not None:
                code = self._proc.returncode if self._proc is not None else None
                self._forget()
                self.restarts += 1
                message = (f"ComfyUI exited unexpectedly ({'code ' + str(code) if code is not None else 'gone'});"
                           " restarting it.")
                log.warning(message)
                self._note(message)
            elif self.answers():
                if not self.adopt():
                    log.info("A ComfyUI this process did not start answers at %s; using it.", self.url)
                return
            self.start(timeout_s=timeout_s)

    def adopt(self) -> bool:
        """Takes over the studio-started ComfyUI at ``url`` whose owner is this process or gone."""
        with self._lock:
            if self.running() or _IS_WINDOWS:
                return False
            record = read_record(self.run_dir)
            if record is None or record.url != self.url:
                return False
            me = ProcessStamp.current()
            if not record.claimable_by(me):
                if not record.comfyui.alive():
                    clear_record(self.run_dir, record.comfyui.pid)
                return False
            self._adopted = record.comfyui
            if record.owner != me:
                self._record(record.comfyui, me, started_at=record.started_at)
                self._note(f"ComfyUI (pid {record.comfyui.pid}) taken over by pid {me.pid}, "
                           f"its owner (pid {record.owner.pid}) having gone.")
            log.info("Took over ComfyUI (pid %s) at %s", record.comfyui.pid, self.url)
            return True

    def stop(self, grace_s: float = 10) -> None:
        """SIGTERM to ComfyUI's process group, SIGKILL after ``grace_s``; a no-op when not running.

        A ComfyUI handed over to this process (or left by an owner that has gone) is stopped too.
        """
        with self._lock:
            if self._proc is None and self._adopted is None:
                self.adopt()
            proc, adopted = self._proc, self._adopted
            self._proc = self._adopted = None
            if proc is not None:
                self._stop_child(proc, grace_s)
                clear_record(self.run_dir, proc.pid)
            elif adopted is not None:
                log.info("Stopping ComfyUI (pid %s)", adopted.pid)
                killed = adopted.alive() and stop_group(adopted.pid, grace_s)
                clear_record(self.run_dir, adopted.pid)
                self._note("ComfyUI stopped" + (" (killed)." if killed else "."))

    def release(self, heir: ProcessStamp | None) -> None:
        """At the end of this process: hands its ComfyUI to ``heir`` (the worker) or stops it."""
        with self._lock:
            pid = self.pid
            if pid is None:
                self._forget()
                return
            if heir is None or _IS_WINDOWS:
                self.stop()
                return
            started = read_record(self.run_dir)
            self._record(ProcessStamp.of(pid), heir,
                         started_at=started.started_at if started else now_stamp())
            self._proc = self._adopted = None  # left running: the heir stops it
            self._note(f"ComfyUI (pid {pid}) handed over to the worker (pid {heir.pid}), "
                       "which stops it when it stops.")
            log.info("Handed ComfyUI (pid %s) over to the worker (pid %s)", pid, heir.pid)

    def _stop_child(self, proc: subprocess.Popen[bytes], grace_s: float) -> None:
        if proc.poll() is not None:
            kill_child_group(proc, signal.SIGKILL if not _IS_WINDOWS else None)  # stray children
            return
        log.info("Stopping ComfyUI (pid %s)", proc.pid)
        kill_child_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        while not _IS_WINDOWS and group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # children of ComfyUI get the same grace period
        if proc.poll() is None or (not _IS_WINDOWS and group_alive(proc.pid)):
            log.warning("ComfyUI did not stop within %g s; killing it.", grace_s)
            kill_child_group(proc, signal.SIGKILL if not _IS_WINDOWS else None)
        proc.wait()
        self._note(f"ComfyUI stopped (code {proc.returncode}).")

    def _forget(self) -> None:
        """Drops a ComfyUI that is gone, with its record."""
        gone = self._proc.pid if self._proc is not None else self._adopted.pid if self._adopted else None
        self._proc = self._adopted = None
        if gone is not None:
            clear_record(self.run_dir, gone)

    def _record(self, comfyui: ProcessStamp | None, owner: ProcessStamp, *, started_at: str) -> None:
        if comfyui is None or _IS_WINDOWS:
            return  # it has already exited, or Windows: no hand-over there (see processes)
        write_record(self.run_dir, ComfyRecord(comfyui=comfyui, owner=owner, url=self.url,
                                               folder=self.settings.comfyui.folder,
                                               started_at=started_at))

    def log_tail(self, n: int = 50) -> list[str]:
        """The last ``n`` lines of ``logs/comfyui.log`` (empty when there is none yet)."""
        return read_log_tail(self.log_file, n)

    def _note(self, message: str) -> None:
        write_note(self.log_file, message)


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


def _take_all() -> list[ComfySupervisor]:
    with _supervisors_lock:
        supervisors = list(_supervisors.values())
        _supervisors.clear()
    return supervisors


def owns_any() -> bool:
    """True when this process runs a ComfyUI of its own (started here or handed over)."""
    with _supervisors_lock:
        supervisors = list(_supervisors.values())
    return any(supervisor.running() for supervisor in supervisors)


def stop_all(grace_s: float = 10) -> None:
    """Stops every ComfyUI this process owns (the worker calls it when it stops)."""
    for supervisor in _take_all():
        supervisor.stop(grace_s=grace_s)


def release_all(heir: ProcessStamp | None) -> None:
    """At the end of a process other than the worker: each ComfyUI it owns goes to ``heir``
    (the data folder's worker), or is stopped when there is none."""
    for supervisor in _take_all():
        supervisor.release(heir)
