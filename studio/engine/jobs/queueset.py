"""All queues of one studio, built once: enqueue a job id on its queue, revoke it, run consumers."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from huey import Huey, crontab
from huey.api import Task
from huey.consumer import Consumer
from redis import RedisError

from studio.engine.config import Paths, Settings
from studio.engine.jobs.doorbell import Doorbell, DoorbellConsumer, DoorbellSender
from studio.engine.jobs.queues import (
    QUEUE_NAMES,
    allow_task,
    build_huey,
    queue_specs,
    queue_unreachable,
    register_runner,
)

log = logging.getLogger("studio.jobs")
Runner = Callable[[str, object], None]
DAILY_QUEUE = "pipeline"
DAILY_TASK = "studio.daily_pipelines"
WORKER_INFO_FILE = "worker.json"  # in the run folder: the local worker's pid and doorbell port


class QueueSet:
    def __init__(self, settings: Settings, paths: Paths, runner: Runner | None = None, *,
                 redis_password: str | None = None) -> None:
        self.settings = settings
        self.hueys: dict[str, Huey] = {name: build_huey(name, settings, paths, redis_password)
                                       for name in QUEUE_NAMES}
        self._runner: Runner = runner or _no_runner
        self._bell = DoorbellSender(paths.run_dir / WORKER_INFO_FILE)
        self.doorbells = {name: Doorbell() for name in QUEUE_NAMES}
        self._tasks = {name: register_runner(h, self._run) for name, h in self.hueys.items()}
        self._daily: Callable[[], object] | None = None
        # Checked every minute by the pipeline queue's consumer; the hook decides if it is time.
        daily = self.hueys[DAILY_QUEUE].periodic_task(crontab(minute="*"), name=DAILY_TASK)(self._run_daily)
        allow_task(self.hueys[DAILY_QUEUE], DAILY_TASK, daily, takes_job=False)

    def set_runner(self, runner: Runner) -> None:
        self._runner = runner

    def set_daily(self, hook: Callable[[], object]) -> None:
        """What the worker runs every minute (the daily pipelines); nothing until set."""
        self._daily = hook

    def enqueue(self, queue: str, job_id: str, *, priority: int = 0) -> str:
        task = self.task(queue, job_id, priority=priority)
        self.put(queue, task)
        return str(task.id)

    def task(self, queue: str, job_id: str, *, priority: int = 0) -> Task:
        """A task for ``job_id``, not yet queued: its id can be stored with the job first."""
        return self._tasks[queue].s(job_id, priority=priority)

    def put(self, queue: str, task: Task) -> None:
        """Raises QueueUnavailable (one plain line) when the queue's server cannot take it."""
        try:
            self.hueys[queue].enqueue(task)
        except RedisError as exc:
            raise queue_unreachable(self.settings, exc) from None
        self._bell.ring(queue)

    def revoke(self, queue: str, task_id: str) -> None:
        """Best effort: a worker skips a job that is no longer waiting in the database anyway, so
        a cancel holds while the queue's server is down; the revoke only spares it the lookup."""
        try:
            self.hueys[queue].revoke_by_id(task_id)
        except RedisError as exc:
            log.warning("the queue message %s was not revoked (%s); its job no longer waits, so "
                        "a worker will skip it", task_id, " ".join(str(exc).split()))

    def pending_count(self) -> int:
        return sum(h.pending_count() + h.scheduled_count() for h in self.hueys.values())

    def consumers(self, *, shutdown_timeout: float = 5.0, queues: Sequence[str] | None = None,
                  concurrency: int | None = None) -> list[Consumer]:
        """One consumer per queue served (all by default); ``concurrency`` overrides the
        settings' threads per queue, e.g. for a worker on a bigger or smaller machine."""
        workers = {spec.name: spec.workers for spec in queue_specs(self.settings)}
        return [DoorbellConsumer(self.hueys[name], self.doorbells[name],
                                 workers=concurrency or workers[name], worker_type="thread",
                                 periodic=name == DAILY_QUEUE, check_worker_health=True,
                                 scheduler_interval=1,
                                 shutdown_timeout=shutdown_timeout, max_delay=1.0)
                for name in (queues or QUEUE_NAMES)]

    def close(self) -> None:
        self._bell.close()
        for huey in self.hueys.values():
            storage = huey.storage
            close = getattr(storage, "close", None)
            if close is not None:
                close()

    def _run(self, job_id: str, task: object) -> None:
        self._runner(job_id, task)

    def _run_daily(self) -> None:
        if self._daily is not None:
            self._daily()


def _no_runner(job_id: str, task: object) -> None:
    raise RuntimeError("This studio only enqueues; a worker runs the jobs.")
