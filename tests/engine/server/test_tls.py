"""TLS to Redis (rediss://) and S3 (https with a private CA): checked, and refused without the CA."""
from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from studio.engine.server.connect import ServerTarget, check_redis, check_s3
from tests.servers import _wait_for_port, free_port


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


@pytest.fixture(scope="module")
def certs() -> Iterator[dict[str, Path]]:
    """A private CA and a server certificate for 127.0.0.1, made here."""
    folder = Path(tempfile.mkdtemp(prefix="studio-tls-"))
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("studio test CA")).issuer_name(_name("studio test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    yield paths
    shutil.rmtree(folder, ignore_errors=True)


def _served(argv: list[str], port: int, what: str) -> Iterator[int]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc, what)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def redis_tls(certs: dict[str, Path]) -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed on this machine")
    port = free_port()
    yield from _served([binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                        "--tls-cert-file", str(certs["cert"]), "--tls-key-file", str(certs["key"]),
                        "--tls-ca-cert-file", str(certs["ca"]), "--tls-auth-clients", "no",
                        "--save", "", "--appendonly", "no"], port, "redis-server (TLS)")


@pytest.fixture(scope="module")
def s3_tls(certs: dict[str, Path]) -> Iterator[int]:
    port = free_port()
    binary = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    yield from _served([binary, "-H", "127.0.0.1", "-p", str(port), "-s", "-c", str(certs["cert"]),
                        "-k", str(certs["key"])], port, "moto_server (TLS)")


def test_redis_over_tls_with_the_private_ca(redis_tls: int, certs: dict[str, Path]) -> None:
    checked = check_redis(f"rediss://127.0.0.1:{redis_tls}/0?ssl_ca_certs={certs['ca']}")
    assert checked.ok and checked.detail.endswith(", TLS"), checked
    refused = check_redis(f"rediss://127.0.0.1:{redis_tls}/0")  # the system CAs do not know it
    assert not refused.ok and "certificate verify failed" in refused.detail.lower()


def test_s3_over_https_with_the_private_ca(s3_tls: int, certs: dict[str, Path]) -> None:
    endpoint = f"https://127.0.0.1:{s3_tls}"
    bucket = f"tls{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1", verify=str(certs["ca"])).create_bucket(Bucket=bucket)
    target = ServerTarget(database_url="postgresql://x@h/db", redis_url="redis://h",
                          s3_endpoint=endpoint, s3_bucket=bucket, s3_access_key="k",
                          s3_secret_key="s", s3_ca_bundle=str(certs["ca"]))
    checked = check_s3(target, uuid.uuid4())
    assert checked.ok and checked.detail.endswith(", TLS"), checked
    refused = check_s3(replace(target, s3_ca_bundle=""), uuid.uuid4())  # system CAs only
    assert not refused.ok and "certificate" in refused.detail.lower()
