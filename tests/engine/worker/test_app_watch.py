"""A real worker started for an app (a stand-in process here) exits once that app has gone; an app
started again adopts it; a headless worker watches nothing. doctor says who holds the lock."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from studio.engine.core import Studio
from studio.engine.db.models import WorkerRecord
from studio.engine.db.types import utcnow
from studio.engine.processes import pid_alive, start_token
from studio.engine.worker.app_watch import (
    ADOPT_FILE,
    APP_STARTED,
    HEADLESS,
    owner_text,
    request_adoption,
)
from studio.engine.worker.process import WorkerInfo, local_worker
from tests.conftest import run_cli, wait_until

StandIn = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """``stand_in()`` starts a process that plays the app: it only waits to be killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def heartbeat(studio: Studio, worker_id: str) -> datetime:
    with studio.db.session() as session:
        record = session.get(WorkerRecord, worker_id)
        assert record is not None
        return record.heartbeat_at.replace(tzinfo=UTC)


def beats_after(studio: Studio, worker_id: str, moment: datetime, beats: int) -> None:
    """Waits until the worker has beaten ``beats`` times after ``moment`` (so it saw what changed)."""
    later = moment + timedelta(seconds=beats * studio.settings.worker.heartbeat_interval_s)
    wait_until(lambda: heartbeat(studio, worker_id) > later, timeout=30, what="the worker to beat")


def written(studio: Studio) -> WorkerInfo:
    """The running worker's worker.json, once written (the lock is taken first)."""
    def info() -> WorkerInfo | None:
        found = local_worker(studio.paths)
        return found if found is not None and found.pid else None
    found = wait_until(info, what="the worker to say who it is")
    assert isinstance(found, WorkerInfo)
    return found


def test_a_worker_for_an_app_exits_once_the_app_is_gone(studio: Studio, worker_factory,
                                                        stand_in: StandIn) -> None:
    app = stand_in()
    worker = worker_factory("--for-app", start_token(app.pid))
    info = written(studio)
    assert (info.started_by, info.app) == (APP_STARTED, start_token(app.pid))
    doctor = run_cli(studio.paths.data_dir, "doctor")
    assert f"running here (pid {worker.proc.pid}, started by the app, since " in doctor.stdout
    kill(app)
    assert worker.proc.wait(timeout=60) == 0  # idle: it left by itself, cleanly
    with studio.db.session() as session:
        assert session.get(WorkerRecord, info.worker_id).stopped_at is not None
    assert local_worker(studio.paths) is None


def test_an_app_started_again_is_watched_instead(studio: Studio, worker_factory,
                                                 stand_in: StandIn) -> None:
    first, second = stand_in(), stand_in()
    worker = worker_factory("--for-app", start_token(first.pid))
    request_adoption(studio.paths.run_dir, start_token(second.pid))
    wait_until(lambda: (local_worker(studio.paths) or WorkerInfo(0, "", "")).app
               == start_token(second.pid), timeout=30, what="the worker to watch the second app")
    assert not (studio.paths.run_dir / ADOPT_FILE).exists()
    info = local_worker(studio.paths)
    assert info is not None and info.pid == worker.proc.pid
    kill(first)
    beats_after(studio, info.worker_id, utcnow(), 4)  # an idle orphan leaves after two beats
    assert worker.proc.poll() is None and pid_alive(worker.proc.pid)
    kill(second)
    assert worker.proc.wait(timeout=60) == 0


def test_a_headless_worker_is_said_so_and_never_adopted(studio: Studio, worker,
                                                        stand_in: StandIn) -> None:
    info = written(studio)
    assert (info.started_by, info.app) == (HEADLESS, "")
    doctor = run_cli(studio.paths.data_dir, "doctor")
    assert (f"running here (pid {worker.proc.pid}, headless (`influencerai-studio worker`), since "
            in doctor.stdout)
    request_adoption(studio.paths.run_dir, start_token(stand_in().pid))
    beats_after(studio, info.worker_id, utcnow(), 2)
    assert local_worker(studio.paths) == info  # still headless, watching no app


def test_for_app_takes_a_pid_and_start_time(data_dir) -> None:
    done = run_cli(data_dir, "worker", "--for-app", "4242")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith(
        "--for-app takes PID-START (e.g. 4242-1733450000), not '4242'.")


def test_owner_text_names_who_holds_the_lock() -> None:
    now = utcnow().isoformat()
    here = datetime.fromisoformat(now).astimezone()
    gone_app = "999999999-1"  # no such process
    assert owner_text(WorkerInfo(41, "w", now, APP_STARTED, start_token())) == (
        f"pid 41, started by the app, since {here:%H:%M}")
    assert owner_text(WorkerInfo(41, "w", now, APP_STARTED, gone_app)) == (
        f"pid 41, started by the app (now closed: it exits once its jobs are done), since {here:%H:%M}")
    old = (utcnow() - timedelta(days=3)).isoformat()
    assert owner_text(WorkerInfo(7, "w", old, HEADLESS)) == (
        f"pid 7, headless (`influencerai-studio worker`), since "
        f"{datetime.fromisoformat(old).astimezone():%Y-%m-%d %H:%M}")
    assert owner_text(WorkerInfo(0, "", "")) == "starting"
