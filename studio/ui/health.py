"""Worker and service health for the status bar, checked in the background every few seconds.

These are outside services, not jobs or data: nothing announces that ComfyUI went away, so this
is the one place that asks on a timer (named "health").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from PySide6.QtCore import QObject, Signal
from sqlalchemy import select, text

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.doctor import run_checks
from studio.engine.worker.app_watch import owner_text
from studio.engine.worker.process import local_worker
from studio.ui.tasks import run_in_background
from studio.ui.timers import repeating_timer

REFRESH_MS = 10_000
TIMER_NAME = "health"
SHOWN = ("worker", "database", "queue", "comfyui", "ffmpeg", "sdscripts")
LABELS = {"worker": "Worker", "database": "Database", "queue": "Queue", "comfyui": "ComfyUI",
          "ffmpeg": "FFmpeg", "sdscripts": "sd-scripts"}


@dataclass(frozen=True, slots=True)
class Health:
    """One status-bar entry; ``status`` is ok, missing, problem or checking."""

    key: str
    label: str
    status: str
    detail: str
    fix: str = ""


def checking(key: str) -> Health:
    return Health(key, LABELS.get(key, key), "checking", "checking…")


def gather(studio: Studio) -> dict[str, Health]:
    """Blocking: network and subprocess checks. Runs on a background lane only."""
    found: dict[str, Health] = {key: checking(key) for key in SHOWN}
    found.update(_doctor_checks(studio))
    found["database"] = _database(studio)
    found["worker"] = worker_health(studio)
    found["queue"] = _queue(studio)
    return found


def worker_health(studio: Studio) -> Health:
    info = local_worker(studio.paths)
    timeout = studio.settings.worker.heartbeat_timeout_s
    with studio.db.session() as session:
        latest = session.scalar(select(WorkerRecord).where(WorkerRecord.stopped_at.is_(None))
                                .order_by(WorkerRecord.heartbeat_at.desc()).limit(1))
    fresh = latest is not None and utcnow() - latest.heartbeat_at < timedelta(seconds=timeout)
    if info is not None:
        return Health("worker", "Worker", "ok", f"Running on this computer ({owner_text(info)}); "
                      "jobs are being worked on.")
    if fresh and latest is not None:
        return Health("worker", "Worker", "ok", f"Running on {latest.host} (process {latest.pid}).")
    return Health("worker", "Worker", "missing", "No worker is running, so queued jobs wait.",
                  "Restart the app: it starts the worker.")


def _database(studio: Studio) -> Health:
    try:
        with studio.db.session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here is the thing being reported
        return Health("database", "Database", "problem", f"The database cannot be used: {exc}",
                      "Check the database settings, or that the data folder is writable.")
    kind = "SQLite file" if studio.database_url.startswith("sqlite") else "server"
    return Health("database", "Database", "ok", f"Working ({kind}).")


def _queue(studio: Studio) -> Health:
    backend = studio.settings.queue.backend
    detail = ("Jobs wait in a file in the data folder (no server needed)." if backend == "sqlite"
              else "Jobs wait on the team's Redis server.")
    return Health("queue", f"Queue: {backend}", "ok", detail)


def _doctor_checks(studio: Studio) -> dict[str, Health]:
    checks = run_checks(studio, quick=True)
    return {c.key: Health(c.key, c.label, c.status, c.detail, c.fix) for c in checks}


class HealthMonitor(QObject):
    """Re-checks every ``REFRESH_MS``; only one round runs at a time."""

    health_changed = Signal(object)  # dict[str, Health]

    def __init__(self, studio: Studio, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.latest: dict[str, Health] = {key: checking(key) for key in SHOWN}
        self._busy = False
        # Outside services (ComfyUI up, a worker alive) announce nothing, so they are asked.
        self._timer = repeating_timer(self, name=TIMER_NAME, interval_ms=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def start(self) -> None:
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        if self._busy:
            return
        self._busy = True
        studio = self.studio
        run_in_background(lambda: gather(studio), receiver=self, on_done=self._on_gathered,
                          on_error=self._on_failed, lane="probe")

    def _on_gathered(self, found: dict[str, Health]) -> None:
        self._busy = False
        self.latest = found
        self.health_changed.emit(found)

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.latest = dict(self.latest, database=Health(
            "database", "Database", "problem", f"Health checks failed: {exc}",
            "See the log folder for details."))
        self.health_changed.emit(self.latest)
