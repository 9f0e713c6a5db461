"""``server connect|check|disconnect`` against real PostgreSQL, Redis and S3 (moto) servers."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg

from studio.engine.core import Studio
from tests.cli.conftest import cli_here, make_bucket


def with_role(postgres_url: str, password: str) -> str:
    """A database owned by a login role with a password, as an admin would hand out."""
    role = f"studio_{uuid.uuid4().hex[:8]}"
    server, dbname = postgres_url.rsplit("/", 1)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO {role}')
        conn.execute(f"ALTER SCHEMA public OWNER TO {role}")
    host = server.split("@", 1)[1]
    return f"postgresql://{role}:{password}@{host}/{dbname}"


def connect_args(db: str, redis: str, s3: str, bucket: str) -> list[str]:
    return ["server", "connect", "--database", db, "--redis", redis, "--s3-endpoint", s3,
            "--bucket", bucket, "--access-key", "team-key"]


def test_connect_checks_each_service_stores_passwords_in_the_keyring_and_migrates(
        data_dir: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    assert cli_here(data_dir, "workspace", "create", "Solo").returncode == 0
    password = "pw-" + uuid.uuid4().hex
    db = with_role(postgres_url, password)
    bucket = make_bucket(s3_server)
    done = cli_here(data_dir, *connect_args(db, redis_url, s3_server, bucket), input="s3-secret\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for service in ("PostgreSQL", "Redis", "S3", "Migrations"):
        assert any(line.startswith("ok") and service in line for line in lines), done.stdout
    assert "will be migrated" in done.stdout and "no TLS" in done.stdout
    settings_text = (data_dir / "settings.toml").read_text()
    assert password not in settings_text and "s3-secret" not in settings_text
    logged = "".join(p.read_text(errors="replace") for p in (data_dir / "logs").rglob("*") if p.is_file())
    assert "database upgraded" in logged  # the migration was logged, its URL without password
    assert password not in logged and "s3-secret" not in logged
    studio = Studio.open(data_dir)
    try:
        assert studio.secrets.get("server.postgres") == password
        assert studio.secrets.get("server.s3") == "s3-secret"
        assert studio.settings.queue.backend == "redis"
        assert studio.db.engine.dialect.name == "postgresql"  # the password came from the keyring
        assert [w.name for w in studio.workspaces()] == []  # the server's own, empty database
    finally:
        studio.close()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
        assert conn.execute("SELECT to_regclass('public.jobs')").fetchone()[0] is not None
    checked = cli_here(data_dir, "server", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] and [c["service"] for c in report["checks"]] == ["PostgreSQL", "Redis", "S3"]
    assert "schema up to date" in report["checks"][0]["detail"]

    assert cli_here(data_dir, "server", "disconnect").returncode == 0
    listed = cli_here(data_dir, "workspace", "list")
    assert "Solo" in listed.stdout  # the local workspace is back, untouched
    studio = Studio.open(data_dir)
    try:
        assert studio.secrets.get("server.postgres") is None
    finally:
        studio.close()


def test_a_failed_connect_changes_nothing_locally(data_dir: Path, postgres_url: str,
                                                  s3_server: str) -> None:
    assert cli_here(data_dir, "workspace", "create", "Solo").returncode == 0
    assert cli_here(data_dir, "settings", "set", "ui.theme", "dark").returncode == 0
    before = (data_dir / "settings.toml").read_bytes()
    bucket = make_bucket(s3_server)
    dead_redis = "redis://127.0.0.1:1/0"
    failed = cli_here(data_dir, *connect_args(postgres_url, dead_redis, s3_server, bucket),
                     input="s3-secret\n")
    assert failed.returncode == 1
    assert any(line.startswith("FAIL") and "Redis" in line for line in failed.stdout.splitlines())
    assert "unchanged" in failed.stderr and "Traceback" not in failed.stderr
    assert (data_dir / "settings.toml").read_bytes() == before
    studio = Studio.open(data_dir)
    try:
        assert studio.secrets.get("server.postgres") is None
        assert studio.secrets.get("server.s3") is None
        assert [w.name for w in studio.workspaces()] == ["Solo"]
    finally:
        studio.close()
    with psycopg.connect(postgres_url) as conn:  # no migration ran on a server that failed
        assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0] is None


def test_a_missing_bucket_and_a_bad_url_are_named_plainly(data_dir: Path, postgres_url: str,
                                                          redis_url: str, s3_server: str) -> None:
    missing = cli_here(data_dir, *connect_args(postgres_url, redis_url, s3_server, "no-such-bucket"),
                      input="s3-secret\n")
    assert missing.returncode == 1
    s3_line = next(line for line in missing.stdout.splitlines() if "S3" in line)
    assert s3_line.startswith("FAIL") and "create the bucket first" in s3_line
    bad = cli_here(data_dir, *connect_args("mysql://x@h/db", redis_url, s3_server, "b"), input="s\n")
    assert bad.returncode == 2 and bad.stderr.startswith("error: The database URL must start")


def test_grant_makes_a_workspace_role_that_sees_only_its_workspace(
        data_dir: Path, postgres_url: str, redis_url: str, s3_server: str) -> None:
    bucket = make_bucket(s3_server)
    assert cli_here(data_dir, *connect_args(postgres_url, redis_url, s3_server, bucket),
                   input="s3-secret\n").returncode == 0
    for name in ("Alpha", "Beta"):
        assert cli_here(data_dir, "workspace", "create", name).returncode == 0
    granted = cli_here(data_dir, "server", "grant", "--workspace", "Alpha", input="long-password-123\n")
    assert granted.returncode == 0, granted.stderr
    url = granted.stdout.split("--database ", 1)[1].strip()
    assert url.startswith("postgresql://ws_") and "long-password" not in granted.stdout
    with psycopg.connect(url.replace("@", ":long-password-123@", 1)) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM workspaces")] == ["Alpha"]
    assert cli_here(data_dir, "server", "revoke", "--workspace", "Alpha").returncode == 0
    short = cli_here(data_dir, "server", "grant", "--workspace", "Beta", input="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr
