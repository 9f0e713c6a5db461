"""Queue benchmark: no-op jobs through the studio's job path against Huey's own bare path.

    .venv/bin/python bench/job_queue.py                 # N=500 jobs, 200 latency samples
    .venv/bin/python bench/job_queue.py --jobs 2000 --samples 500 --redis-url redis://host:6379/0

For each backend (SqliteHuey in a temporary file, PriorityRedisHuey on a redis-server this
script starts unless --redis-url names one), in the same run:

- baseline, Huey bare: a no-op ``@huey.task`` enqueued, dequeued and executed with Huey's own
  API (``enqueue``/``dequeue``/``execute``), no job rows, Huey's settings as shipped;
- studio: a registered no-op job type submitted through ``JobService.submit`` (a ``Job`` row
  in the studio's SQLite database, the task on the queue), dequeued and executed through the
  real ``JobRunner`` (processing → completed, result written), exactly as a worker runs it.

On SQLite a third line shows bare Huey with the studio queue's own setting (WAL with
``synchronous=NORMAL``, where Huey as shipped syncs the disk on every commit), for reference.

Throughput drains N queued jobs in one thread; latency is submit → completed for one job at a
time (median and 95th percentile over the samples). Both exclude the consumer's idle polling,
which is Huey's and the same for both paths. The paths take turns (blocks of N/5 jobs, single
latency samples alternating), so load from other processes falls on both alike. Warm: the
databases exist and the handler modules are imported before timing. Ratios: studio throughput
/ bare throughput (1.0 = no overhead), studio latency / bare latency; the target (issue 21) is
a latency ratio of at most 1.5 on each backend.
"""
from __future__ import annotations

import argparse
import os
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
from studio.engine.jobs.queues import StudioSqliteStorage
from studio.engine.jobs.registry import job_type, load_handlers
from studio.engine.jobs.runner import JobRunner
from studio.engine.jobs.status import JobStatus

NOOP = "bench-noop"


@job_type(NOOP, queue="general", payload=Empty, result=Empty)
def _noop(ctx: JobContext, payload: Empty) -> Empty:
    return Empty()


TARGET_RATIO = 1.5  # issue 21: a no-op job's latency at most 1.5× bare Huey's
BLOCKS = 5  # throughput is measured in this many turns per path


@dataclass(frozen=True, slots=True)
class Measure:
    per_s: float
    latency_median_ms: float
    latency_p95_ms: float


@dataclass(frozen=True, slots=True)
class JobPath:
    """One way through a queue: put one no-op job on it, and take and run the next one."""
    name: str
    submit: Callable[[], object]
    run_next: Callable[[], object]


def latency_stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def bare_path(name: str, huey: Huey) -> JobPath:
    @huey.task()
    def noop() -> None:
        return None

    huey.flush()
    return JobPath(name, noop, lambda: huey.execute(huey.dequeue()))


def studio_path(studio: Studio, submitted: list[uuid.UUID]) -> JobPath:
    ws = studio.workspace("Bench", create=True)
    studio.queues.set_runner(JobRunner(studio.db, studio.paths, studio.settings, "bench"))
    huey = studio.queues.hueys["general"]
    huey.flush()
    return JobPath("studio", lambda: submitted.append(studio.jobs.submit(ws.id, NOOP, Empty()).id),
                   lambda: huey.execute(huey.dequeue()))


def measure(paths: list[JobPath], jobs: int, samples: int) -> dict[str, Measure]:
    """Each path in turn, the order flipped every round, so that load from other processes
    falls on every path alike."""
    block = max(1, jobs // BLOCKS)
    spent = {path.name: 0.0 for path in paths}
    for turn in range(BLOCKS):
        for path in paths if turn % 2 == 0 else paths[::-1]:
            start = time.perf_counter()
            for _ in range(block):
                path.submit()
            for _ in range(block):
                path.run_next()
            spent[path.name] += time.perf_counter() - start
    times: dict[str, list[float]] = {path.name: [] for path in paths}
    for turn in range(samples):
        for path in paths if turn % 2 == 0 else paths[::-1]:
            start = time.perf_counter()
            path.submit()
            path.run_next()
            times[path.name].append(time.perf_counter() - start)
    return {name: Measure(block * BLOCKS / spent[name], *latency_stats(times[name])) for name in spent}


def check_completed(studio: Studio, ids: list[uuid.UUID]) -> None:
    """A benchmark of jobs that did not run would measure nothing."""
    ws = studio.workspace("Bench")
    for job_id in (ids[0], ids[-1]):
        status = studio.jobs.get(ws.id, job_id).status
        if status != JobStatus.COMPLETED:
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


def run_backend(name: str, bare: list[JobPath], studio: Studio, jobs: int, samples: int) -> bool:
    """Prints one backend's figures; True when the studio's latency meets the target."""
    submitted: list[uuid.UUID] = []
    found = measure([*bare, studio_path(studio, submitted)], jobs, samples)
    check_completed(studio, submitted)
    base, ours = found[bare[0].name], found["studio"]
    ratio = ours.latency_median_ms / base.latency_median_ms
    verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
    print(f"{name}:")
    print(f"  throughput  bare {base.per_s:9.0f} jobs/s   studio {ours.per_s:9.0f} jobs/s   "
          f"ratio {ours.per_s / base.per_s:.3f}")
    print(f"  latency     bare {base.latency_median_ms:7.2f} ms (p95 {base.latency_p95_ms:.2f})   "
          f"studio {ours.latency_median_ms:7.2f} ms (p95 {ours.latency_p95_ms:.2f})   "
          f"ratio {ratio:.2f}   target <= {TARGET_RATIO}x: {verdict}")
    for other in bare[1:]:
        ref = found[other.name]
        print(f"  reference   {other.name}: {ref.per_s:.0f} jobs/s, {ref.latency_median_ms:.2f} ms "
              f"(p95 {ref.latency_p95_ms:.2f}); studio latency / this: "
              f"{ours.latency_median_ms / ref.latency_median_ms:.2f}")
    return verdict == "OK"


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def sqlite_bare(root: Path) -> list[JobPath]:
    shipped = SqliteHuey("bench-bare", filename=str(root / "bare.sqlite3"), results=False)
    normal = SqliteHuey("bench-normal", filename=str(root / "normal.sqlite3"), results=False,
                        storage_class=StudioSqliteStorage)
    return [bare_path("bare", shipped), bare_path("bare Huey, synchronous=NORMAL", normal)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs drained for throughput")
    parser.add_argument("--samples", type=int, default=200, help="one-at-a-time latency samples")
    parser.add_argument("--redis-url", default=None, help="an existing Redis (flushed!)")
    args = parser.parse_args()
    load_handlers()
    print(f"queue benchmark: N={args.jobs} no-op jobs for throughput, {args.samples} latency "
          "samples, warm, paths taking turns; studio records in SQLite; ratio = studio / Huey bare, "
          "same backend")
    print(f"before: {load_line()}")
    root = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    try:
        with redis_server(args.redis_url) as url:
            sqlite_studio = open_studio(root, "sqlite", url)
            redis_studio = open_studio(root, "redis", url)
            try:
                met = [run_backend("SqliteHuey", sqlite_bare(root), sqlite_studio, args.jobs, args.samples),
                       run_backend("PriorityRedisHuey", [bare_path("bare", PriorityRedisHuey(
                           "bench-bare", url=url, results=False))], redis_studio, args.jobs, args.samples)]
            finally:
                sqlite_studio.close()
                redis_studio.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"after: {load_line()}")
    print(f"target: studio latency <= {TARGET_RATIO}x bare Huey on both backends: "
          f"{'OK' if all(met) else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
