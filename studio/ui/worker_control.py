"""Starts this data folder's worker process when none runs, and stops the one it started.

The worker it starts watches this app (``worker --for-app``) and exits by itself once the app
has gone, however it went, after finishing its jobs. A worker an earlier run of the app started
and left busy is adopted (it watches this app from then on) instead of a second one started; one
started with ``influencerai-studio worker`` is used as it is and never stopped from here.

Plain Python with blocking calls: the UI runs these on its "worker" background lane.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO

from studio.engine.config import Paths
from studio.engine.errors import StudioError
from studio.engine.processes import start_token, still_running
from studio.engine.worker.app_watch import APP_STARTED, request_adoption
from studio.engine.worker.process import EXIT_WHEN_IDLE_FILE, STOP_FILE, WorkerInfo, local_worker, request
from studio.resources import studio_command

log = logging.getLogger("studio.ui.worker")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Windows has no sessions; a process group of its own keeps Ctrl-C in a console from reaching it.
_DETACHED = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if sys.platform == "win32" else 0


class WorkerSupervisor:
    def __init__(self, paths: Paths, *, app: str | None = None) -> None:
        self.paths = paths
        self.app = app or start_token()  # this app, as the worker watches it
        self._proc: subprocess.Popen[bytes] | None = None
        self._adopted: WorkerInfo | None = None
        self._log: IO[bytes] | None = None

    @property
    def started_here(self) -> bool:
        """Whether the running worker is this app's: started by it, or adopted from an earlier run."""
        if self._proc is not None:
            return self._proc.poll() is None
        found = local_worker(self.paths) if self._adopted is not None else None
        return found is not None and self._adopted is not None and found.pid == self._adopted.pid

    @property
    def log_file(self) -> Path:
        return self.paths.logs_dir / "worker-output.log"

    def ensure_running(self, *, timeout: float = START_TIMEOUT_S) -> WorkerInfo:
        """Returns the running worker (adopting one an earlier run of the app left busy), starting
        one (and waiting until it holds its lock) if none runs."""
        deadline = time.monotonic() + timeout
        found = self._adopt(deadline)
        if found is not None:
            return found
        self.paths.logs_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        # A session of its own: closing the window or the terminal never takes the worker down;
        # it watches this app instead, and exits once the app has gone and its jobs are done.
        self._proc = subprocess.Popen(
            [*studio_command(), "--data-dir", str(self.paths.data_dir), "worker",
             "--for-app", self.app],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, creationflags=_DETACHED)
        log.info("worker process started", extra={"fields": {"pid": self._proc.pid}})
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

    def _adopt(self, deadline: float) -> WorkerInfo | None:
        """The worker already running, if any. One an earlier run of the app started is asked to
        watch this app, and answers at its next beat; None when it finished and left meanwhile."""
        asked = False
        found = local_worker(self.paths)
        while found is not None:
            if found.pid and found.started_by != APP_STARTED:
                return found  # headless: it runs until someone stops it
            if found.app == self.app:
                self._adopted = found
                log.info("adopted the worker an earlier run started", extra={"fields": {"pid": found.pid}})
                return found
            if found.pid and not asked:
                request_adoption(self.paths.run_dir, self.app)
                asked = True
            if time.monotonic() >= deadline:
                log.warning("the running worker (pid %s) did not answer; using it as it is", found.pid)
                return found
            time.sleep(0.1)
            found = local_worker(self.paths)
        return None

    def stop(self, *, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stops this app's worker (never someone else's); True once it has exited."""
        proc = self._proc
        if proc is None:
            adopted, self._adopted = self._adopted, None
            return adopted is None or self._stop_adopted(adopted, timeout)
        if proc.poll() is None:
            request(self.paths, STOP_FILE)
            proc.terminate()  # SIGTERM: the worker finishes its beat and puts running jobs back
            if not _lock_released(self.paths, proc, timeout):
                log.warning("worker did not stop in %s s; killing it", timeout)
                proc.kill()
                proc.wait(timeout=5)
        self._forget()
        return True

    def stop_soon(self) -> None:
        """Asks this app's worker to stop and returns at once. Quitting need not wait for it: it
        holds the lock until it has exited, and a worker that missed the request still exits by
        itself once it sees this app gone."""
        if self._proc is not None and self._proc.poll() is None:
            request(self.paths, STOP_FILE)
            self._proc.terminate()
        elif self._adopted is not None:
            self._signal_adopted(self._adopted, signal.SIGTERM)
        self._forget()

    def _signal_adopted(self, info: WorkerInfo, signum: int) -> None:
        """Signals an adopted worker (not this app's child: by pid, checked by its start time)."""
        if signum == signal.SIGTERM:
            request(self.paths, STOP_FILE)
        if still_running(info.pid, alive_at=datetime.fromisoformat(info.started_at)):
            os.kill(info.pid, signum)  # SIGTERM: it finishes its beat and puts running jobs back

    def _stop_adopted(self, info: WorkerInfo, timeout: float) -> bool:
        self._signal_adopted(info, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while local_worker(self.paths) is not None:
            if time.monotonic() >= deadline:
                log.warning("worker did not stop in %s s; killing it", timeout)
                self._signal_adopted(info, getattr(signal, "SIGKILL", signal.SIGTERM))
                return False
            time.sleep(0.1)
        return True

    def leave_running(self) -> None:
        """Asks the worker to exit by itself once the queue is empty, and lets it go on."""
        request(self.paths, EXIT_WHEN_IDLE_FILE)
        self._forget()

    def _forget(self) -> None:
        self._proc = None
        self._adopted = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _lock_released(paths: Paths, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """True once the worker has let go of its lock (or exited): it has stopped by then. What is
    left is its interpreter's own exit, a second or more on a busy machine, which quitting the
    app does not wait for."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and local_worker(paths) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
