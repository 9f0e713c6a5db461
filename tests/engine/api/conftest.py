"""The API as users run it: ``influencerai-studio api serve --port 0`` in a child process, talked
to with httpx; and the same app in-process (Starlette's TestClient) for the routes' details."""
from __future__ import annotations

import ipaddress
import re
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from studio.engine.api.app import create_app
from studio.engine.api.tokens import create_token
from studio.engine.core import Studio
from tests.conftest import ROOT, studio_command

ADDRESS = re.compile(r"API on (https?://\S+) \(docs at /docs\)")


class ApiProcess:
    """``api serve`` in a child process; ``url`` is read from the line it prints."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.proc = subprocess.Popen(studio_command(data_dir, "api", "serve", "--port", "0", *args),
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the line or the process's end
        found = ADDRESS.search(line)
        if found is None:
            self.proc.kill()
            raise AssertionError(f"api serve printed {line!r}; stderr: {self.proc.communicate()[1]}")
        self.url = found.group(1)

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, as a service manager stops it; the exit code and what it said on stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


@pytest.fixture
def api_factory(studio: Studio) -> Iterator[Callable[..., ApiProcess]]:
    started: list[ApiProcess] = []

    def start(*args: str) -> ApiProcess:
        studio.save_settings()  # what the test set (limits) is what the child reads
        server = ApiProcess(studio.paths.data_dir, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.communicate(timeout=10)


@dataclass(frozen=True, slots=True)
class Tokens:
    """A read-write and a read-only token of the default workspace, and one of another workspace."""

    writer: str
    reader: str
    other: str
    workspace_id: uuid.UUID
    other_workspace_id: uuid.UUID


def make_tokens(studio: Studio, mine_name: str | None = None, other_name: str = "Other") -> Tokens:
    """``mine_name`` None: the studio's default workspace."""
    mine = studio.workspace(mine_name, create=mine_name is not None)
    other = studio.workspace(other_name, create=True)
    return Tokens(writer=create_token(studio.db, mine.id, "rw"),
                  reader=create_token(studio.db, mine.id, "ro", read_only=True),
                  other=create_token(studio.db, other.id, "other"),
                  workspace_id=mine.id, other_workspace_id=other.id)


@pytest.fixture
def tokens(studio: Studio) -> Tokens:
    return make_tokens(studio)


@dataclass(frozen=True, slots=True)
class SharedApi:
    studio: Studio
    server: ApiProcess
    tokens: Tokens  # of two workspaces made for the test that asked


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Studio, ApiProcess]]:
    """One ``api serve`` for a module's tests that change no setting: starting one costs seconds."""
    studio = Studio.open(tmp_path_factory.mktemp("shared-api") / "data")
    studio.save_settings()
    server = ApiProcess(studio.paths.data_dir)
    try:
        yield studio, server
    finally:
        server.stop()
        studio.close()


@pytest.fixture
def shared_api(shared_server: tuple[Studio, ApiProcess]) -> SharedApi:
    """The module's server, with two workspaces of the test's own (nothing of another test's)."""
    studio, server = shared_server
    suffix = uuid.uuid4().hex[:8]
    return SharedApi(studio, server, make_tokens(studio, f"Mine {suffix}", f"Other {suffix}"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(studio: Studio, tokens: Tokens) -> Iterator[TestClient]:
    """The app in this process, calling as the read-write token unless a test says otherwise."""
    with TestClient(create_app(studio), headers=bearer(tokens.writer)) as test_client:
        yield test_client


def http(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=bearer(token), timeout=30)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (it is its own CA) and that key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "api.crt", folder / "api.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file
