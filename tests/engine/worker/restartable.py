"""A PostgreSQL and a Redis of one test's own, stopped and started again on the same port (an
outage), without touching the session's shared servers."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import _as_postgres_user, _postgres_bin, _wait_for_port, _wait_ready, free_port


class Restartable:
    """One server process: ``stop()`` ends it as a restart would, ``start()`` brings it back."""

    def __init__(self, argv: list[str], port: int, what: str) -> None:
        self.argv, self.port, self.what = argv, port, what
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.proc, self.what)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # PostgreSQL: smart shutdown after its clients; see fast_stop
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
            self.proc = None


class RestartablePostgres(Restartable):
    def __init__(self, argv: list[str], port: int, bindir: Path, data: Path) -> None:
        super().__init__(argv, port, "postgres")
        self.bindir, self.data = bindir, data

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, as a restart does to them."""
        if self.proc is not None:
            subprocess.run(_as_postgres_user([str(self.bindir / "pg_ctl"), "-D", str(self.data),
                                              "stop", "-m", "fast", "-w"]),
                           check=True, capture_output=True, timeout=60)
            self.proc.wait(timeout=30)
            self.proc = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        super().start()
        _wait_ready(self.url)


@contextmanager
def own_postgres() -> Iterator[RestartablePostgres]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, postgres) are not installed on this machine")
    root = Path(tempfile.mkdtemp(prefix="studio-pg-outage-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                      "-A", "trust", "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True)
    port = free_port()
    server = RestartablePostgres(_as_postgres_user([
        str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"]),
        port, bindir, data)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def own_redis() -> Iterator[Restartable]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed on this machine")
    root = Path(tempfile.mkdtemp(prefix="studio-redis-outage-"))
    port = free_port()
    # No persistence: a restart loses every message, as a Redis without AOF does.
    server = Restartable([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", str(root)], port, "redis-server")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
