"""Real PostgreSQL and Redis servers for the tests, started in temporary folders and stopped after.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
(``runuser``) in a folder it owns. They are skipped, with the reason, only where the binaries
do not exist; ``make test`` installs them on Debian/Ubuntu.
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


POSTGRES_LOG = "server.log"  # beside the data folder; see postgres_log
_LOGS: dict[str, Path] = {}


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port} within {timeout} s")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Yields a server URL without a database name; tests create their own databases."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, postgres) are not installed on this machine")
    root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    password = secrets.token_urlsafe(18)
    pwfile = root / "superuser-password"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    # TCP connections, the only ones the tests make, must give a password (SCRAM-SHA-256) as
    # on a team server, so every role's password is really checked.
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                      "--auth-local=trust", "--auth-host=scram-sha-256",
                                      f"--pwfile={pwfile}", "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True)
    pwfile.unlink()
    port = free_port()
    log = (root / POSTGRES_LOG).open("ab")
    # Every statement is logged, so a test can look for a password that must never reach it.
    proc = subprocess.Popen(_as_postgres_user([
        str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
        "-c", "log_statement=all", "-c", "log_min_error_statement=error",
        "-c", "logging_collector=off"]),
        stdout=subprocess.DEVNULL, stderr=log)
    url = f"postgresql://postgres:{password}@127.0.0.1:{port}"
    _LOGS[url] = root / POSTGRES_LOG
    try:
        _wait_for_port(port, proc, "postgres")
        _wait_ready(f"{url}/postgres")
        yield url
    finally:
        log.close()
        _stop_postgres(proc, data)
        shutil.rmtree(root, ignore_errors=True)


def _stop_postgres(proc: subprocess.Popen[bytes], data: Path) -> None:
    """An immediate shutdown (SIGQUIT to the postmaster): the cluster is thrown away, so waiting
    for clients to leave (SIGTERM, through runuser) and writing a checkpoint would be time lost."""
    try:
        os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
    except (OSError, ValueError, IndexError):  # not started, or already gone
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_ready(url: str, timeout: float = 30) -> None:
    import psycopg
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def postgres_log(postgres_server: str) -> Path:
    """The test server's log: every statement, and every error with its statement."""
    return _LOGS[postgres_server]


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    import psycopg
    name = f"t_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server}/{name}"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="studio-redis-"))
    with _redis_server(root) as port:
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def _redis_server(root: Path, *options: str) -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed on this machine")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(root), *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc, "redis-server")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class RedisUsers:
    """URLs (passwords in them) of a Redis with the server recipe's users: the admin (default
    user, a password as with requirepass), the workers' user and the desks' user."""
    admin: str
    worker: str
    desk: str


@pytest.fixture(scope="session")
def redis_users() -> Iterator[RedisUsers]:
    """A Redis whose users are written by installers/server/redis-acl.sh, as the recipe's are."""
    root = Path(tempfile.mkdtemp(prefix="studio-redis-acl-"))
    passwords = {name: secrets.token_hex(12) for name in ("REDIS_PASSWORD", "REDIS_WORKER_PASSWORD",
                                                         "REDIS_DESK_PASSWORD")}
    script = Path(__file__).resolve().parents[1] / "installers" / "server" / "redis-acl.sh"
    subprocess.run(["sh", str(script), "write", str(root / "users.acl")], check=True,
                   env={**passwords, "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    with _redis_server(root, "--aclfile", str(root / "users.acl")) as port:
        yield RedisUsers(*(f"redis://{user}:{passwords[name]}@127.0.0.1:{port}/0" for user, name in (
            ("default", "REDIS_PASSWORD"), ("worker", "REDIS_WORKER_PASSWORD"),
            ("desk", "REDIS_DESK_PASSWORD"))))


def start_moto_server(*, enforce_auth: bool = False) -> tuple[str, subprocess.Popen[bytes]]:
    """moto's S3-speaking server in a child process; returns its endpoint and the process.

    With ``enforce_auth`` the server checks signatures and IAM policies, as AWS and MinIO do,
    once ``enable_moto_auth`` is called; until then, setup calls (users, keys, policies, the
    bucket) go through unchecked (INITIAL_NO_AUTH_ACTION_COUNT counts those).
    """
    binary = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(binary).exists():
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    env = dict(os.environ)
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "1000000" if enforce_auth else "inf"
    env.pop("AWS_ACCESS_KEY_ID", None)
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc, "moto_server")
    except BaseException:
        proc.kill()
        raise
    return f"http://127.0.0.1:{port}", proc


def enable_moto_auth(endpoint: str) -> None:
    """From the next request on, every call is authenticated and authorized by IAM policy."""
    import httpx
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0", timeout=10).raise_for_status()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3 endpoint (moto) without authentication checks; tests make their own buckets."""
    endpoint, proc = start_moto_server()
    try:
        yield endpoint
    finally:
        _stop(proc)


_AUTH_MOTO: list[str] = []  # the run's one auth-checking moto, emptied for each test


@pytest.fixture
def s3_auth_server(request: pytest.FixtureRequest) -> str:
    """A moto server that will check credentials and IAM policies (see enable_moto_auth), empty
    and taking setup calls unchecked again for each test. One per run, started by the first test
    that asks: a start costs seconds, a reset milliseconds."""
    import httpx
    if not _AUTH_MOTO:
        endpoint, proc = start_moto_server(enforce_auth=True)
        request.config.add_cleanup(lambda: _stop(proc))
        _AUTH_MOTO.append(endpoint)
    endpoint = _AUTH_MOTO[0]
    httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()  # users, keys, buckets
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"1000000", timeout=10).raise_for_status()
    return endpoint
