"""The local ComfyUI as the app controls it: start and stop through the worker, read its log.

The worker owns the supervised ComfyUI (it starts it for jobs and stops it when it stops), so
the app asks the worker with a job rather than starting a second copy of its own; the log file
is shared, so the app reads it directly.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from studio.engine.comfyui.comfy_log import LOG_FILE, read_log_tail
from studio.engine.comfyui.supervisor import ComfySupervisor, comfy_url, supervisor_for
from studio.engine.config import Paths, Settings
from studio.engine.core import Studio
from studio.engine.db.models import Job
from studio.engine.errors import StudioError
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobFailed
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type
from studio.engine.jobs.status import JobStatus

START_JOB = "start-comfyui"
STOP_JOB = "stop-comfyui"
_TITLES = {START_JOB: "Start ComfyUI", STOP_JOB: "Stop ComfyUI"}
START_TIMEOUT_S = 150  # the supervisor itself gives ComfyUI 120 s to answer


@dataclass(frozen=True, slots=True)
class ComfyState:
    url: str
    supervised: bool  # the settings name a local ComfyUI folder the studio starts and stops
    answers: bool
    log_file: Path
    log_tail: tuple[str, ...]


def read_state(settings: Settings, paths: Paths, *, lines: int = 200) -> ComfyState:
    """Where ComfyUI is, whether it answers now, and the end of the supervised one's log."""
    url = comfy_url(settings)
    supervisor = ComfySupervisor(settings, paths.logs_dir)  # only to ask; it starts nothing
    log_file = paths.logs_dir / LOG_FILE
    return ComfyState(url=url, supervised=ComfySupervisor.configured(settings),
                      answers=supervisor.answers(timeout_s=1.5), log_file=log_file,
                      log_tail=tuple(read_log_tail(log_file, lines)))


def ask_worker(studio: Studio, workspace_id: uuid.UUID, job: str,
               timeout_s: float = START_TIMEOUT_S) -> Job:
    """Has the worker start or stop its ComfyUI and waits for it; the job's error otherwise."""
    submitted = studio.jobs.submit(workspace_id, job, Empty(), title=_TITLES[job])
    deadline = time.monotonic() + timeout_s
    while True:
        row = studio.jobs.get(workspace_id, submitted.id)
        if row.status == JobStatus.COMPLETED:
            return row
        if row.status in (JobStatus.FAILED, JobStatus.CANCELED):
            raise StudioError(row.error or row.message)
        if time.monotonic() > deadline:
            studio.jobs.cancel(workspace_id, row.id)
            raise StudioError(f"{_TITLES[job]} did not finish within {timeout_s:g} s; is the "
                              "worker running?")
        time.sleep(0.2)


def _supervisor(ctx: JobContext) -> ComfySupervisor:
    supervisor = supervisor_for(ctx.settings, ctx.paths.logs_dir)
    if supervisor is None:
        raise JobFailed("No ComfyUI folder is set (comfyui.folder in Settings): the studio only "
                        f"connects to {ctx.settings.comfyui.url}.")
    return supervisor


@dataclass(frozen=True, slots=True)
class Started:
    url: str
    pid: int | None


@dataclass(frozen=True, slots=True)
class Stopped:
    stopped: bool  # False: it was not running


@job_type(START_JOB, queue="general", payload=Empty, result=Started)
def start_comfyui(ctx: JobContext, payload: Empty) -> Started:
    supervisor = _supervisor(ctx)
    ctx.progress(0.1, stage="Starting ComfyUI", message=str(supervisor.folder))
    supervisor.ensure_running()
    return Started(url=supervisor.url, pid=supervisor.pid)


@job_type(STOP_JOB, queue="general", payload=Empty, result=Stopped)
def stop_comfyui(ctx: JobContext, payload: Empty) -> Stopped:
    supervisor = _supervisor(ctx)
    was_running = supervisor.running()
    supervisor.stop()
    return Stopped(stopped=was_running)
