"""The Huey queues, built from settings: SqliteHuey by default, PriorityRedisHuey in team mode."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.api import TaskWrapper

from studio.engine.config import Paths, Settings
from studio.engine.errors import SettingsError
from studio.engine.urls import with_password

RETRIES = 3
RETRY_DELAY_S = 5
RETRY_BACKOFF = 5  # 5 s, 25 s, 125 s
TASK_NAME = "studio.run_job"


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    workers: int
    purpose: str


def queue_specs(settings: Settings) -> list[QueueSpec]:
    q = settings.queue
    return [
        QueueSpec("generation", q.generation_workers, "images through ComfyUI"),
        QueueSpec("video", q.video_workers, "video through ComfyUI and FFmpeg"),
        QueueSpec("training", q.training_workers, "LoRA training (holds the GPU)"),
        QueueSpec("general", q.general_workers, "thumbnails, probing and other light work"),
        QueueSpec("pipeline", q.pipeline_workers, "plan items from picture to published folder"),
    ]


QUEUE_NAMES = ("generation", "video", "training", "general", "pipeline")

def build_huey(name: str, settings: Settings, paths: Paths, redis_password: str | None = None) -> Huey:
    """One Huey instance (= one queue) named ``influencerai-<name>``; the Redis password comes
    from the keyring (server.redis), never from the settings file."""
    huey_name = f"influencerai-{name}"
    if settings.queue.backend == "redis":
        if not settings.queue.redis_url:
            raise SettingsError("queue.backend is 'redis' but queue.redis_url is empty.")
        url = with_password(settings.queue.redis_url, redis_password)
        return PriorityRedisHuey(huey_name, url=url, results=False)
    return SqliteHuey(huey_name, filename=str(paths.queue_file), results=False, timeout=30)


def register_runner(huey: Huey, runner: Callable[[str, object], None]) -> TaskWrapper:
    """Registers the one task every queue carries: run the job whose id it was given."""

    def run_job(job_id: str, task: object = None) -> None:
        runner(job_id, task)

    return huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_S, retry_backoff=RETRY_BACKOFF,
                     context=True, name=TASK_NAME)(run_job)
