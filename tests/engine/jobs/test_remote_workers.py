"""Remote workers: two worker processes, each with its own profile connected to one server,
share a batch from the same Redis queue; one killed mid-job has its job finished by the other."""
from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from sqlalchemy import select

from studio.engine.core import Studio
from studio.engine.db.models import Job, WorkerRecord
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.worker.process import local_worker
from tests.conftest import ROOT, studio_command, wait_until
from tests.engine.jobs.helpers import make_images


def connected_profile(data_dir: Path, postgres_url: str, redis_url: str) -> Studio:
    studio = Studio.open(data_dir)
    studio.settings.set("database.url", postgres_url)
    studio.settings.set("queue.backend", "redis")
    studio.settings.set("queue.redis_url", redis_url)
    studio.settings.set("worker.heartbeat_interval_s", 0.5)
    studio.settings.set("worker.heartbeat_timeout_s", 3.0)
    studio.save_settings()
    return studio


def start_worker(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(studio_command(data_dir, "worker", "--server", *args), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: local_worker(Studio.open(data_dir).paths) is not None or proc.poll() is not None,
               what="a worker to start")
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    return proc


def running(team: Studio) -> dict[str, str]:
    """Job id → worker id of the jobs being processed now."""
    with team.db.session() as session:
        rows = session.execute(select(Job.id, Job.worker_id).where(Job.status == "processing")).all()
    return {str(job_id): str(worker_id) for job_id, worker_id in rows}


def test_two_workers_share_a_batch_and_one_finishes_the_job_of_the_other_killed(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    team = connected_profile(tmp_path / "studio", postgres_url, redis_url)
    for huey in team.queues.hueys.values():
        huey.flush()  # the Redis server is shared by the session's tests
    for name in ("box-a", "box-b"):
        connected_profile(tmp_path / name, postgres_url, redis_url).close()
    procs = [start_worker(tmp_path / "box-a", "--queues", "general", "--concurrency", "1"),
             start_worker(tmp_path / "box-b", "--queues", "general", "--concurrency", "1")]
    try:
        ws = team.workspace("Agency", create=True)
        files = make_images(tmp_path / "in", 40, size=1200, progressive=True)
        payload = ThumbnailPayload(files=tuple(map(Path, files)))
        jobs = team.jobs.submit_many(ws.id, "make-thumbnails", [(payload, f"batch {i}")
                                                                for i in range(4)])
        both = wait_until(lambda: (lambda now: now if len(set(now.values())) == 2 else None)(running(team)),
                          timeout=60, what="both workers to run a job at once")
        with team.db.session() as session:
            workers = {w.pid: w.id for w in session.scalars(select(WorkerRecord)).all()}
            assert sorted(w.queues for w in session.scalars(select(WorkerRecord)).all()) == [
                ["general"], ["general"]]
        victim, survivor = procs[0], procs[1]
        victim_id, survivor_id = workers[victim.pid], workers[survivor.pid]
        orphan = next(job for job, worker in both.items() if worker == victim_id)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        wait_until(lambda: all(team.jobs.get(ws.id, j.id).status == "completed" for j in jobs),
                   timeout=120, what="the whole batch to complete")
        finished = {str(j.id): team.jobs.get(ws.id, j.id) for j in jobs}
        assert finished[orphan].worker_id == survivor_id  # restarted by the other worker
        assert finished[orphan].attempts == 2
        assert "stopped unexpectedly" not in finished[orphan].error
        assert all(sorted(job.result["thumbnails"]) == sorted(files) for job in finished.values())
        assert {job.worker_id for job in finished.values()} <= {victim_id, survivor_id}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        team.close()


def test_unknown_queues_and_an_unconnected_profile_are_usage_errors(tmp_path: Path) -> None:
    from tests.conftest import run_cli
    bad = run_cli(tmp_path / "p", "worker", "--queues", "training,bogus")
    assert bad.returncode == 2 and "Unknown queue 'bogus'" in bad.stderr
    solo = run_cli(tmp_path / "p", "worker", "--server")
    assert solo.returncode == 2 and "not connected to a server" in solo.stderr
    zero = run_cli(tmp_path / "p", "worker", "--concurrency", "0")
    assert zero.returncode == 2 and "at least 1" in zero.stderr
