"""Shared fixtures: every test gets its own data folder; nothing touches the user's real data."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before anything imports Qt or keyring.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("INFLUENCERAI_DATA_DIR", None)
os.environ.pop("INFLUENCERAI_CONFIG_DIR", None)

from studio.engine.config import Settings
from studio.engine.core import Studio
from studio.engine.db.database import make_engine, migrate, sqlite_url
from studio.engine.media.ffmpeg import find_ffmpeg
from studio.engine.worker.process import local_worker
from tests.servers import postgres_log, postgres_server, postgres_url, redis_url, redis_users, s3_auth_server, s3_server  # noqa: F401 - fixtures for all tests

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """A test run started in the background by a script (``make test &``) inherits SIGINT
    ignored, and so would every CLI it starts: the Ctrl-C tests would send a signal nobody
    hears. The studio is tested as a user runs it, from a terminal that delivers Ctrl-C."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def gpu_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Users get one GPU lock per machine; each test its own (inherited by the workers and CLI
    processes it starts), so test runs on one machine never wait for each other."""
    path = tmp_path / "gpu.lock"
    monkeypatch.setenv("INFLUENCERAI_GPU_LOCK", str(path))
    return path


@pytest.fixture(autouse=True)
def comfyui_catalogue_forgotten() -> None:
    """ComfyUI's node map is kept per server URL in the process; a fake ComfyUI of an earlier
    test may have had this test's port, with other nodes."""
    from studio.engine.comfyui import node_cache

    node_cache.clear()


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """Never skipped: the bundled imageio-ffmpeg binary is a dependency of the studio. Here, not in
    tests/engine/media, because the CLI, pipeline and UI tests make clips with it too."""
    return find_ffmpeg(Settings()).exe


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the newest schema, made once a run: each test's profile starts from
    a copy (migrating a new SQLite file costs 0.1–0.2 s, a copy 0.01 s). It holds no rows, so
    no two profiles share a workspace or any other id."""
    path = tmp_path_factory.mktemp("migrated") / "studio.sqlite3"
    engine = make_engine(sqlite_url(path))
    try:
        migrate(engine)
    finally:
        engine.dispose()  # the last connection's close folds the WAL into the file
    return path


@pytest.fixture
def studio(data_dir: Path, migrated_database: Path) -> Iterator[Studio]:
    """A fresh profile with a fast heartbeat, so recovery tests need not wait 30 s."""
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_database, data_dir / migrated_database.name)
    s = Studio.open(data_dir)
    assert s.paths.database_file == data_dir / migrated_database.name
    s.settings.worker.heartbeat_interval_s = 0.5
    s.settings.worker.heartbeat_timeout_s = 3.0
    s.save_settings()
    yield s
    s.close()


def studio_command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "studio", "--data-dir", str(data_dir), *args]


def run_cli(data_dir: Path, *args: str, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(studio_command(data_dir, *args), check=False, input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def wait_until(predicate: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.1,
               what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_next_task(studio: Studio, queue: str) -> None:
    """Runs the next task waiting on ``queue`` here, through the real runner, as a worker would."""
    from studio.engine.worker.process import make_runner
    studio.queues.set_runner(make_runner(studio, "test"))
    huey = studio.queues.hueys[queue]
    huey.execute(huey.dequeue())


class WorkerProcess:
    """A real ``influencerai-studio worker`` in a child process."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.proc = subprocess.Popen(studio_command(data_dir, "worker", *args), cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: local_worker(Studio.open(data_dir).paths) is not None
                   or self.proc.poll() is not None, what="the worker to start")
        if self.proc.poll() is not None:
            raise AssertionError(f"worker exited at once: {self.proc.stderr.read() if self.proc.stderr else ''}")

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def worker_factory(studio: Studio) -> Iterator[Callable[..., WorkerProcess]]:
    """``worker_factory()`` starts a worker; ``worker_factory("--queues", "training")`` one with
    the options given."""
    started: list[WorkerProcess] = []

    def start(*args: str) -> WorkerProcess:
        worker = WorkerProcess(studio.paths.data_dir, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.kill()


@pytest.fixture
def worker(worker_factory: Callable[..., WorkerProcess]) -> WorkerProcess:
    return worker_factory()
