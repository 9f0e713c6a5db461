"""Queue benchmark: no-op jobs through the studio's job path against Huey's own bare path.

    .venv/bin/python bench/job_queue.py                 # N=500 jobs, 200 latency samples
    .venv/bin/python bench/job_queue.py --jobs 2000 --samples 500 --redis-url redis://host:6379/0

For each backend (SqliteHuey in a temporary file, PriorityRedisHuey on a redis-server this
script starts unless --redis-url names one), in the same run:

- baseline, Huey bare: a no-op ``@huey.task`` enqueued, dequeued and executed with Huey's own
  API (``enqueue``/``dequeue``/``execute``), no job rows;
- studio: a registered no-op job type submitted through ``JobService.submit`` (a ``Job`` row
  in the studio's SQLite database, the task on the queue), dequeued and executed through the
  real ``JobRunner`` (processing → completed, result written), exactly as a worker runs it.

Throughput drains N queued jobs in one thread; latency is submit → completed for one job at a
time (median and 95th percentile over the samples). Both exclude the consumer's idle polling,
which is Huey's and the same for both paths. Warm: the databases exist and the handler modules
are imported before timing. Ratios: studio throughput / bare throughput (1.0 = no overhead),
studio latency / bare latency.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from huey import Huey, PriorityRedisHuey, SqliteHuey

from studio.engine.core import Studio
from studio.engine.jobs.context import JobContext
from studio.engine.jobs.payloads import Empty
from studio.engine.jobs.registry import job_type, load_handlers
from studio.engine.jobs.runner import JobRunner

NOOP = "bench-noop"


@job_type(NOOP, queue="general", payload=Empty, result=Empty)
def _noop(ctx: JobContext, payload: Empty) -> Empty:
    return Empty()


@dataclass(frozen=True, slots=True)
class Measure:
    per_s: float
    latency_median_ms: float
    latency_p95_ms: float


def latency_stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def bare(huey: Huey, jobs: int, samples: int) -> Measure:
    @huey.task()
    def noop() -> None:
        return None

    huey.flush()
    start = time.perf_counter()
    for _ in range(jobs):
        noop()
    for _ in range(jobs):
        huey.execute(huey.dequeue())
    per_s = jobs / (time.perf_counter() - start)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        noop()
        huey.execute(huey.dequeue())
        times.append(time.perf_counter() - t0)
    return Measure(per_s, *latency_stats(times))


def through_studio(studio: Studio, jobs: int, samples: int) -> Measure:
    ws = studio.workspace("Bench", create=True)
    studio.queues.set_runner(JobRunner(studio.db, studio.paths, studio.settings, "bench"))
    huey = studio.queues.hueys["general"]
    huey.flush()
    start = time.perf_counter()
    submitted = [studio.jobs.submit(ws.id, NOOP, Empty()).id for _ in range(jobs)]
    for _ in range(jobs):
        huey.execute(huey.dequeue())
    per_s = jobs / (time.perf_counter() - start)
    check_completed(studio, ws.id, submitted)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        job = studio.jobs.submit(ws.id, NOOP, Empty())
        huey.execute(huey.dequeue())
        times.append(time.perf_counter() - t0)
        submitted = [job.id]
    check_completed(studio, ws.id, submitted)
    return Measure(per_s, *latency_stats(times))


def check_completed(studio: Studio, workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    """A benchmark of jobs that did not run would measure nothing."""
    for job_id in (ids[0], ids[-1]):
        status = studio.jobs.get(workspace_id, job_id).status
        if status != "completed":
            raise SystemExit(f"job {job_id} ended {status}; the benchmark is void")


def open_studio(root: Path, backend: str, redis_url: str) -> Studio:
    studio = Studio.open(root / f"studio-{backend}")
    if backend == "redis":
        studio.settings.set("queue.backend", "redis")
        studio.settings.set("queue.redis_url", redis_url)
    studio.db  # noqa: B018 - migrations run before the clock starts
    return studio


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed; pass --redis-url")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run_backend(name: str, make_bare: Callable[[], Huey], studio: Studio, jobs: int,
                samples: int) -> None:
    base = bare(make_bare(), jobs, samples)
    ours = through_studio(studio, jobs, samples)
    print(f"{name}:")
    print(f"  throughput  bare {base.per_s:9.0f} jobs/s   studio {ours.per_s:9.0f} jobs/s   "
          f"ratio {ours.per_s / base.per_s:.3f}")
    print(f"  latency     bare {base.latency_median_ms:7.2f} ms (p95 {base.latency_p95_ms:.2f})   "
          f"studio {ours.latency_median_ms:7.2f} ms (p95 {ours.latency_p95_ms:.2f})   "
          f"ratio {ours.latency_median_ms / base.latency_median_ms:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs drained for throughput")
    parser.add_argument("--samples", type=int, default=200, help="one-at-a-time latency samples")
    parser.add_argument("--redis-url", default=None, help="an existing Redis (flushed!)")
    args = parser.parse_args()
    load_handlers()
    print(f"queue benchmark: N={args.jobs} no-op jobs for throughput, {args.samples} latency "
          "samples, warm; studio records in SQLite; ratio = studio / Huey bare, same backend")
    root = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    try:
        with redis_server(args.redis_url) as url:
            sqlite_studio = open_studio(root, "sqlite", url)
            redis_studio = open_studio(root, "redis", url)
            try:
                run_backend("SqliteHuey", lambda: SqliteHuey("bench-bare",
                            filename=str(root / "bare.sqlite3"), results=False),
                            sqlite_studio, args.jobs, args.samples)
                run_backend("PriorityRedisHuey", lambda: PriorityRedisHuey(
                            "bench-bare", url=url, results=False),
                            redis_studio, args.jobs, args.samples)
            finally:
                sqlite_studio.close()
                redis_studio.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
