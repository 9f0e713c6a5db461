"""Starts this data folder's worker process when none runs, and stops the one it started.

Plain Python with blocking calls: the UI runs these on its "worker" background lane.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from studio.engine.config import Paths
from studio.engine.errors import StudioError
from studio.engine.worker.process import EXIT_WHEN_IDLE_FILE, STOP_FILE, WorkerInfo, local_worker, request
from studio.resources import studio_command

log = logging.getLogger("studio.ui.worker")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Windows has no sessions; a process group of its own keeps Ctrl-C in a console from reaching it.
_DETACHED = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if sys.platform == "win32" else 0


class WorkerSupervisor:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def started_here(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_file(self) -> Path:
        return self.paths.logs_dir / "worker-output.log"

    def ensure_running(self, *, timeout: float = START_TIMEOUT_S) -> WorkerInfo:
        """Returns the running worker, starting one (and waiting until it holds its lock) if needed."""
        found = local_worker(self.paths)
        if found is not None:
            return found
        self.paths.logs_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        # A session of its own: closing the window or the terminal never takes the worker down.
        self._proc = subprocess.Popen(
            [*studio_command(), "--data-dir", str(self.paths.data_dir), "worker"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, creationflags=_DETACHED)
        log.info("worker process started", extra={"fields": {"pid": self._proc.pid}})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = local_worker(self.paths)
            if found is not None and found.pid in (0, self._proc.pid):
                return found
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                raise StudioError(f"The worker stopped right after starting (exit code {code}); "
                                  f"see {self.log_file}.")
            time.sleep(0.1)
        raise StudioError(f"The worker did not start within {timeout:g} s; see {self.log_file}.")

    def stop(self, *, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stops the worker this app started (never someone else's); True once it has exited."""
        proc = self._proc
        if proc is None:
            return True
        if proc.poll() is None:
            request(self.paths, STOP_FILE)
            proc.terminate()  # SIGTERM: the worker finishes its beat and puts running jobs back
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("worker did not stop in %s s; killing it", timeout)
                proc.kill()
                proc.wait(timeout=5)
        self._forget()
        return True

    def leave_running(self) -> None:
        """Asks the worker to exit by itself once the queue is empty, and lets it go on."""
        request(self.paths, EXIT_WHEN_IDLE_FILE)
        self._forget()

    def _forget(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
