"""The worker process: runs every queue's consumer headless, beats its heart, recovers orphans.

Huey's consumer installs signal handlers when it starts, which only works on the main thread,
so consumers live in this process of their own (``influencerai-studio worker``), never inside
the GUI. One worker per data folder per machine, held by a lock file.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from filelock import FileLock, Timeout
from huey.api import Task
from huey.consumer import Consumer
from sqlalchemy import select

from studio import __version__
from studio.engine.comfyui.supervisor import stop_all as stop_supervised_comfyui
from studio.engine.comfyui.supervisor import supervisor_for
from studio.engine.config import Paths
from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.errors import StudioError
from studio.engine.fsutil import atomic_write_text
from studio.engine.jobs.doorbell import DoorbellListener
from studio.engine.jobs.outage import (
    DATABASE,
    MAX_WAIT_S,
    OUTAGES,
    QUEUE,
    outage_of,
    quiet_huey_outages,
    ride_out,
)
from studio.engine.jobs.queues import QUEUE_NAMES
from studio.engine.jobs.queueset import WORKER_INFO_FILE
from studio.engine.jobs.recovery import recover_orphans, requeue_lost
from studio.engine.jobs.registry import load_handlers
from studio.engine.jobs.runner import JobRunner
from studio.engine.jobs.status import ACTIVE, JobStatus
from studio.engine.media.old_thumbnails import remove_old_thumbnails_in_background
from studio.engine.media.partials import sweep_tree
from studio.engine.server.assets import team_files
from studio.engine.server.workers import machine_gpu
from studio.engine.tls import tls_context
from studio.engine.webhooks.loop import DeliveryLoop
from studio.engine.webhooks.outbox import record_job_finished
from studio.engine.worker.app_watch import ADOPT_FILE, AppWatch, announce_finished, grace_before

if TYPE_CHECKING:
    from studio.engine.api.serve import Background

log = logging.getLogger("studio.worker")

EXIT_WHEN_IDLE_FILE = "worker-exit-when-idle"
STOP_FILE = "worker-stop"
T = TypeVar("T")


def _quiet_huey_per_task() -> None:
    """Huey says "Executing …" and "… executed in …" of every task at INFO: two redacted JSON
    lines per job in the worker's log, on every job's way, where the runner's own line already
    names the job and its outcome. Its warnings stay, and so do the consumers' start lines."""
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)


def make_runner(studio: Studio, worker_id: str) -> JobRunner:
    """The runner a worker uses: in team mode its jobs' files travel through the bucket."""
    return JobRunner(studio.db, studio.paths, studio.settings, worker_id, team_files=team_files)

class WorkerAlreadyRunning(StudioError):
    pass


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    pid: int
    worker_id: str
    started_at: str
    started_by: str = ""  # app_watch.APP_STARTED or HEADLESS ("" from a worker before them)
    app: str = ""  # the app it watches (a start token), when started by the app


def lock_path(paths: Paths) -> Path:
    return paths.run_dir / "worker.lock"


def info_path(paths: Paths) -> Path:
    return paths.run_dir / WORKER_INFO_FILE


def local_worker(paths: Paths) -> WorkerInfo | None:
    """The worker that holds this data folder's lock on this machine, if one runs."""
    lock = FileLock(str(lock_path(paths)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            raw = json.loads(info_path(paths).read_text(encoding="utf-8"))
            return WorkerInfo(int(raw["pid"]), str(raw["worker_id"]), str(raw["started_at"]),
                              str(raw.get("started_by") or ""), str(raw.get("app") or ""))
        except (OSError, ValueError, KeyError):
            return WorkerInfo(0, "", "")
    lock.release()
    return None


def request(paths: Paths, name: str) -> None:
    """Leaves a request for the worker (stop, exit when idle); it reads them every beat."""
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    (paths.run_dir / name).write_text(str(time.time()), encoding="utf-8")


class Worker:
    def __init__(self, studio: Studio, *, exit_when_idle: bool = False,
                 queues: Sequence[str] | None = None, concurrency: int | None = None,
                 for_app: str | None = None) -> None:
        self.studio = studio
        self._app = AppWatch(studio.paths.run_dir, for_app)  # for_app: the app's start token
        self.exit_when_idle = exit_when_idle
        self.queues = list(queues or QUEUE_NAMES)  # a training-only box serves ["training"]
        self.concurrency = concurrency
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stop_event = threading.Event()
        self._lock = FileLock(str(lock_path(studio.paths)), timeout=0)
        self._consumers: list[Consumer] = []
        self._doorbell: DoorbellListener | None = None
        self._webhooks: DeliveryLoop | None = None  # sends the webhooks' deliveries
        self._backoff = 0.0
        self._next_lost_check = 0.0
        self._recover_after = 0.0  # no orphan recovery before (set after an outage)
        self._started_at = utcnow().isoformat()
        self._api: Background | None = None  # the HTTP API when api.autostart is on

    def run(self) -> int:
        """Blocks until stopped by a signal, a stop request, or (optionally) an empty queue."""
        self._install_signal_handlers()  # a stop asked for while starting must not be lost
        try:
            self._lock.acquire()
        except Timeout:
            other = local_worker(self.studio.paths)
            pid = other.pid if other else "?"
            raise WorkerAlreadyRunning(f"A worker already runs for {self.studio.paths.data_dir} (pid {pid}).") from None
        try:
            self._clear_requests()
            self._start()
            self._loop()
        finally:
            self._stop()
            self._lock.release()
        return 0

    def _start(self) -> None:
        studio = self.studio
        load_handlers()
        quiet_huey_outages()
        _quiet_huey_per_task()
        ride_out(self._register, stop=self.stop_event)  # a server still starting is waited for
        tls_context()  # built now, not by the first jobs while the user waits for them
        studio.queues.set_runner(make_runner(studio, self.worker_id))
        studio.queues.set_daily(self._daily_pipelines)
        self._recover()
        sweep_tree(studio.paths.assets_dir / "videos", 2)  # partial exports of killed processes
        remove_old_thumbnails_in_background(studio.paths.cache_dir)
        self._consumers = studio.queues.consumers(queues=self.queues, concurrency=self.concurrency)
        for consumer in self._consumers:
            consumer.start()
        self._doorbell = DoorbellListener(studio.queues.doorbells)
        self._doorbell.start()
        self._webhooks = DeliveryLoop(studio.db, studio.secrets)
        self._webhooks.start()
        self._write_info()
        # Each consumer installed its own handlers; one set for the whole worker replaces them.
        self._install_signal_handlers()
        self._autostart_comfyui()
        if studio.settings.api.autostart:  # fastapi and uvicorn are loaded only then
            from studio.engine.api.serve import serve_in_background
            self._api = serve_in_background(studio)
        log.info("worker started", extra={"fields": {"worker_id": self.worker_id,
                                                     "data_dir": str(studio.paths.data_dir)}})

    def _write_info(self) -> None:
        """worker.json: who holds the lock (pid, started by the app or headless, since when)."""
        port = self._doorbell.port if self._doorbell is not None else None
        atomic_write_text(info_path(self.studio.paths), json.dumps({
            "pid": os.getpid(), "worker_id": self.worker_id, "started_at": self._started_at,
            "started_by": self._app.started_by, "app": self._app.app, "doorbell_port": port}))

    def _register(self) -> None:
        with self.studio.db.session() as session:
            session.merge(WorkerRecord(id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
                                       queues=list(self.queues), app_version=__version__,
                                       gpu=machine_gpu()))

    def _daily_pipelines(self) -> None:
        from studio.engine.pipelines.schedule import run_minute
        try:
            run_minute(self.studio)
        except StudioError as exc:
            log.error("the daily pipelines did not start: %s", exc)

    def _autostart_comfyui(self) -> None:
        """Starts the local ComfyUI in the background when the settings ask for it; jobs that
        need it wait for it (ensure_running) instead of the whole worker."""
        settings = self.studio.settings
        supervisor = supervisor_for(settings, self.studio.paths.logs_dir)
        if supervisor is None:
            return
        supervisor.adopt()  # one a killed worker or command left behind is stopped with this worker
        if not settings.comfyui.autostart:
            return

        def start() -> None:
            try:
                supervisor.ensure_running()
            except StudioError as exc:
                log.error("ComfyUI did not start: %s", exc)
        threading.Thread(target=start, name="comfyui-start", daemon=True).start()

    def _install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop_event.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def _loop(self) -> None:
        interval = self.studio.settings.worker.heartbeat_interval_s
        idle_beats = 0
        while not self.stop_event.wait(self._next_wait(interval)):
            if self._app.adopted():  # first: the app started again waits for this answer
                self._on_adopted()
            if (self._guarded(self._beat, DATABASE) is None
                    or self._guarded(self.studio.queues.pending_count, QUEUE) is None):
                continue  # no recovery while a server is down: what it sees is not the truth
            if time.monotonic() >= self._recover_after:
                self._recover()
            if (self.studio.paths.run_dir / STOP_FILE).exists():
                break
            if not self._left_alone():
                idle_beats = 0
                continue
            idle_beats = idle_beats + 1 if self._guarded(self._idle, DATABASE) is True else 0
            if idle_beats >= 2:
                log.info("worker idle; exiting as asked")
                self._guarded(self._announce_finished, DATABASE)
                break

    def _left_alone(self) -> bool:
        """Asked to exit once idle: by ``--exit-when-idle``, by the app as it quit, or because
        the app that started it has gone (quit, killed, crashed)."""
        asked = (self.studio.paths.run_dir / EXIT_WHEN_IDLE_FILE).exists()
        return self._app.left_alone(asked=asked) or self.exit_when_idle

    def _on_adopted(self) -> None:
        """An app started again took this worker over: what the last one asked no longer holds."""
        (self.studio.paths.run_dir / EXIT_WHEN_IDLE_FILE).unlink(missing_ok=True)
        self._write_info()

    def _next_wait(self, interval: float) -> float:
        """The beat's interval; while a server is down, a back-off up to a few seconds (well
        inside the heartbeat timeout, so the heartbeat resumes soon after the outage)."""
        if not OUTAGES.is_down():
            self._backoff = interval
            return interval
        # Every worker's heartbeat went stale in the outage: after it, each gets one timeout to
        # beat again before its jobs count as orphans, so none is taken from a live worker.
        self._recover_after = time.monotonic() + self.studio.settings.worker.heartbeat_timeout_s
        cap = max(interval, min(MAX_WAIT_S, self.studio.settings.worker.heartbeat_timeout_s / 4))
        self._backoff = min(self._backoff * 2, cap)
        return self._backoff

    @staticmethod
    def _guarded(step: Callable[[], T], service: str) -> T | None:
        """``step()``, which needs ``service``; None when the database or Redis is down (said
        once, by OUTAGES)."""
        try:
            value = step()
        except Exception as exc:
            failed = outage_of(exc)
            if failed is None:
                raise
            OUTAGES.down(failed, exc)
            return None
        OUTAGES.up(service)
        return value

    def _announce_finished(self) -> None:
        """Kept running after the app closed (or died): tell the user their jobs are done."""
        left_at = self._app.left_at
        if left_at is not None:
            beat = self.studio.settings.worker.heartbeat_interval_s
            announce_finished(self.studio.db, self.worker_id, grace_before(left_at, beat))

    def _beat(self) -> bool:
        with self.studio.db.session() as session:
            record = session.get(WorkerRecord, self.worker_id)
            if record is not None:
                record.heartbeat_at = utcnow()
                if record.stopped_at is not None:  # marked stopped by someone else: it is not
                    log.warning("this worker's record said it had stopped; it runs, and says so again")
                    record.stopped_at = None
        return True

    def _recover(self) -> None:
        timeout = self.studio.settings.worker.heartbeat_timeout_s
        try:
            recover_orphans(self.studio.db, self.studio.queues, timeout_s=timeout, me=self.worker_id)
            if time.monotonic() >= self._next_lost_check:  # it reads whole queues: not every beat
                requeue_lost(self.studio.db, self.studio.queues, grace_s=timeout)
                self._next_lost_check = time.monotonic() + timeout / 2
        except StudioError as exc:
            log.error("orphan recovery failed: %s", exc)
        except Exception as exc:
            service = outage_of(exc)
            if service is None:
                raise
            OUTAGES.down(service, exc)

    def _idle(self) -> bool:
        """Solo: nothing runs or waits. Team: this worker runs nothing; the shared queues hold
        other desks' jobs, which would keep a worker whose app has gone from ever exiting."""
        team = self.studio.settings.queue.backend == "redis"
        query = select(Job.id).where(Job.status.in_(ACTIVE))
        if team:
            query = query.where(Job.worker_id == self.worker_id)
        with self.studio.db.session() as session:
            active = session.scalar(query.limit(1))
        return active is None and (team or self.studio.queues.pending_count() == 0)

    def _stop(self) -> None:
        """Each step on its own: a server down while stopping must not keep the rest from
        running (the lock is released, ComfyUI stopped); what needs the server is said in the log."""
        if self._api is not None:
            self._api.stop()
        for consumer in self._consumers:
            consumer.stop(graceful=True)
        if self._doorbell is not None:
            self._doorbell.close()
        if self._webhooks is not None:
            self._webhooks.close()
        for step in (self._requeue_interrupted, stop_supervised_comfyui, self._record_stopped):
            try:
                step()
            except Exception as exc:
                if outage_of(exc) is None:
                    raise
                log.warning("while stopping, the %s could not be reached: %s", outage_of(exc),
                            type(exc).__name__)
        info_path(self.studio.paths).unlink(missing_ok=True)
        self._clear_requests()
        log.info("worker stopped", extra={"fields": {"worker_id": self.worker_id}})

    def _record_stopped(self) -> None:
        with self.studio.db.session() as session:
            record = session.get(WorkerRecord, self.worker_id)
            if record is not None:
                record.stopped_at = utcnow()

    def _requeue_interrupted(self) -> None:
        """Jobs still running after the grace period go back to the queue, their attempt uncounted."""
        canceled: list[uuid.UUID] = []
        again: list[tuple[str, Task]] = []
        with self.studio.db.session() as session:
            jobs = session.scalars(select(Job).where(Job.status == JobStatus.PROCESSING,
                                                     Job.worker_id == self.worker_id)).all()
            for job in jobs:
                if job.cancel_requested:  # the user asked it to stop: canceled, never run again
                    job.status, job.finished_at = JobStatus.CANCELED, utcnow()
                    job.worker_id, job.cancel_requested = None, False
                    job.message = "Canceled by the user."
                    canceled.append(job.id)
                    continue
                job.status = JobStatus.PENDING
                job.worker_id = None
                job.attempts = max(job.attempts - 1, 0)
                job.progress = 0.0
                job.message = "Interrupted when its worker stopped; it will run again."
                task = self.studio.queues.task(job.queue, str(job.id), priority=job.priority)
                job.task_id = str(task.id)
                again.append((job.queue, task))
        for queue, task in again:  # once the rows name them (job_rows.claim)
            self.studio.queues.put(queue, task)
        for job_id in canceled:
            record_job_finished(self.studio.db, job_id)  # job.canceled, for webhooks

    def _clear_requests(self) -> None:
        for name in (STOP_FILE, EXIT_WHEN_IDLE_FILE, ADOPT_FILE):
            (self.studio.paths.run_dir / name).unlink(missing_ok=True)
