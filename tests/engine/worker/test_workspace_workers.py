"""A worker connected with a workspace role (row-level security shows it one workspace) leaves
another workspace's job in the queue for a worker that can run it, instead of swallowing it."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.jobs.recovery import queued_task_ids
from studio.engine.media.thumbnails import ThumbnailPayload
from studio.engine.server.roles import grant_workspace_role, workspace_role
from studio.engine.urls import with_password, with_user
from studio.engine.worker.serving import who_serves
from tests.conftest import wait_until
from tests.engine.jobs.helpers import make_images
from tests.engine.worker.team import connected_profile, log_lines, start_worker, stop_workers

PASSWORD = "a-long-enough-password"


def worker_id(desk: Studio, proc: subprocess.Popen[bytes]) -> str:
    def registered() -> str | None:
        with desk.db.session() as session:
            return session.query(WorkerRecord.id).filter(WorkerRecord.pid == proc.pid).scalar()
    return str(wait_until(registered, what="the worker's record"))


def thumbnails(desk: Studio, workspace_id: uuid.UUID, folder: Path) -> uuid.UUID:
    files = make_images(folder, 2)
    job = desk.jobs.submit(workspace_id, "make-thumbnails", ThumbnailPayload(files=tuple(map(Path, files))))
    return job.id


def test_a_workspace_role_worker_leaves_another_workspace_s_job_for_a_worker_that_can_run_it(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    desk = connected_profile(tmp_path / "desk", postgres_url, redis_url)  # the team's own role
    for huey in desk.queues.hueys.values():
        huey.flush()  # the Redis server is shared by the session's tests
    alpha = desk.workspace("Alpha", create=True)
    beta = desk.workspace("Beta", create=True)
    grant_workspace_role(postgres_url, alpha.id, PASSWORD)
    role_url = with_password(with_user(postgres_url, workspace_role(alpha.id)), PASSWORD)
    connected_profile(tmp_path / "alpha-box", role_url, redis_url).close()
    connected_profile(tmp_path / "team-box", postgres_url, redis_url).close()
    procs = [start_worker(tmp_path / "alpha-box")]
    try:
        alpha_worker = worker_id(desk, procs[0])
        theirs = thumbnails(desk, beta.id, tmp_path / "beta")
        task_id = desk.jobs.get(beta.id, theirs).task_id
        # Taken by the Alpha worker, which cannot see it, and put back (in the schedule).
        wait_until(lambda: task_id in {str(t.id) for t in desk.queues.hueys["general"].scheduled()},
                   timeout=30, what="the job to be put back")
        mine = thumbnails(desk, alpha.id, tmp_path / "alpha")
        wait_until(lambda: desk.jobs.get(alpha.id, mine).status == "completed", timeout=60,
                   what="the Alpha job")
        assert desk.jobs.get(alpha.id, mine).worker_id == alpha_worker
        waiting = desk.jobs.get(beta.id, theirs)
        assert (waiting.status, waiting.attempts, waiting.task_id) == ("pending", 0, task_id)
        assert task_id in queued_task_ids(desk.queues, "general")
        assert not [m for m in log_lines(tmp_path / "alpha-box", "warning", "studio.jobs") if "vanished" in m]
        # A desk waiting on the Beta job learns that no worker serves it (and runs it itself).
        assert who_serves(desk, "general", alpha.id).served
        assert not who_serves(desk, "general", beta.id).served

        procs.append(start_worker(tmp_path / "team-box"))
        team_worker = worker_id(desk, procs[1])
        wait_until(lambda: desk.jobs.get(beta.id, theirs).status == "completed", timeout=60,
                   what="the Beta job, by the team's worker")
        done = desk.jobs.get(beta.id, theirs)
        assert (done.worker_id, done.attempts) == (team_worker, 1)
    finally:
        stop_workers(procs)
        desk.close()
