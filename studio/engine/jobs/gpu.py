"""One GPU hold per machine, shared by every job that uses this machine's GPU (Decision 4).

Training and jobs sent to a ComfyUI on this machine take it; jobs sent to a ComfyUI on another
host do not. The lock is a file lock, so workers of every data folder on the machine share it.
Whoever holds it writes who they are in a small JSON file beside the lock, so a job waiting
for the GPU can say which job holds it ("Waiting for the GPU: training 'mia-v3' holds it"),
and a cancel ends the wait at once.

ComfyUI jobs of one process share a single hold: each taking the lock for itself would let
only one prompt into ComfyUI at a time and leave the GPU idle while the studio downloads and
submits. The first one takes the lock, later ones join, the last one out lets it go; training
waits for that.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from studio.engine.db.models import Job
from studio.engine.fsutil import atomic_write_text
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.errors import JobCanceled

LOCK_ENV = "INFLUENCERAI_GPU_LOCK"
WAITING_STAGE = "Waiting for the GPU"
POLL_S = 0.5
# How a job type reads in "Waiting for the GPU: training 'mia-v3' holds it".
_KIND_WORDS = {"train-lora": "training", "generate-image": "image generation",
               "generate-video": "video generation"}


@dataclass(frozen=True, slots=True)
class GpuHolder:
    job_id: str
    job_type: str
    title: str

    def describe(self) -> str:
        return f"{_KIND_WORDS.get(self.job_type, self.job_type)} '{self.title}'"


def gpu_lock_path() -> Path:
    """Machine-wide on purpose: two data folders on one machine still share one GPU. The
    environment variable points it elsewhere (tests give each test its own)."""
    configured = os.environ.get(LOCK_ENV, "").strip()
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "influencerai-studio-gpu.lock"


def holder_file() -> Path:
    lock = gpu_lock_path()
    return lock.with_name(f"{lock.stem}-holder.json")


def current_holders() -> list[GpuHolder]:
    """Who holds the GPU, as the holder wrote it; empty when nobody said (or the file is bad)."""
    try:
        data = json.loads(holder_file().read_text(encoding="utf-8"))
        return [GpuHolder(**entry) for entry in data["holders"]]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def waiting_message(holders: list[GpuHolder]) -> str:
    if not holders:
        return "Waiting for the GPU: another job holds it"
    more = f" (and {len(holders) - 1} more)" if len(holders) > 1 else ""
    return f"Waiting for the GPU: {holders[0].describe()}{more} holds it"


@contextmanager
def hold_gpu(ctx: JobContext, *, shared: bool = False) -> Iterator[None]:
    """Holds this machine's GPU for the job, waiting (visibly, cancelably) while another holds it.

    ``shared``: ComfyUI jobs of this process hold it together (see the module's note)."""
    holder = _holder_of(ctx)
    hold = _shared_hold if shared else _Hold()
    hold.join(ctx, holder)
    try:
        yield
    finally:
        hold.leave(holder)


def _holder_of(ctx: JobContext) -> GpuHolder:
    with ctx.db.session() as session:
        job = session.get(Job, ctx.job_id)
        job_type, title = (job.type, job.title) if job is not None else ("job", "")
    return GpuHolder(job_id=str(ctx.job_id), job_type=job_type, title=title)


class _Waiting:
    """Says who holds the GPU on the waiting job's row (when that changes) and ends the wait on
    cancel: a training may hold the GPU for hours."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.said = ""

    def tick(self) -> None:
        message = waiting_message(current_holders())
        if message != self.said:
            self.ctx.progress(0.0, stage=WAITING_STAGE, message=message)
            self.said = message
        if self.ctx.is_canceled():
            raise JobCanceled("Canceled while waiting for the GPU.")


class _Hold:
    """The machine's GPU lock as this process holds it, for one job or for several together."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holders: dict[str, GpuHolder] = {}
        self._lock: FileLock | None = None  # set while held
        self._taking = False  # one job takes the lock; the others wait for it to say so

    def join(self, ctx: JobContext, holder: GpuHolder) -> None:
        waiting = _Waiting(ctx)
        while True:
            with self._cond:
                if self._lock is not None:
                    self._add(holder)
                    return
                take = not self._taking
                if take:
                    self._taking = True
                else:
                    self._cond.wait(POLL_S)
            if take:
                self._take(holder, waiting)
                return
            waiting.tick()

    def leave(self, holder: GpuHolder) -> None:
        with self._cond:
            self._holders.pop(holder.job_id, None)
            if self._holders:
                _write_holders(list(self._holders.values()))
                return
            holder_file().unlink(missing_ok=True)  # before the release: the next holder writes
            if self._lock is not None:
                self._lock.release()
            self._lock = None

    def _take(self, holder: GpuHolder, waiting: _Waiting) -> None:
        # Not thread-local: the last job to leave a shared hold releases it, on its own thread.
        path = gpu_lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path), thread_local=False, is_singleton=False)
        try:
            while not _acquired(lock):
                waiting.tick()
        except BaseException:
            with self._cond:
                self._taking = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._lock, self._taking = lock, False
            self._add(holder)
            self._cond.notify_all()

    def _add(self, holder: GpuHolder) -> None:
        self._holders[holder.job_id] = holder
        _write_holders(list(self._holders.values()))


def _acquired(lock: FileLock) -> bool:
    try:
        lock.acquire(timeout=POLL_S)
    except Timeout:
        return False
    return True


def _write_holders(holders: list[GpuHolder]) -> None:
    path = holder_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not flushed to the disk: it says who holds a lock that itself ends with the machine, and
    # each ComfyUI job writes it as it starts (the flush cost the first prompt ~4 ms).
    atomic_write_text(path, json.dumps({"holders": [asdict(h) for h in holders]}), sync=False)


_shared_hold = _Hold()
