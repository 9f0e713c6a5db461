"""Connecting a studio to a team server: check each service, then switch, never half-way.

The order protects the local setup: every service is checked first (versions, permissions,
TLS) with nothing changed; then migrations run on the server's database; only then are the
passwords stored in the keyring and the settings switched, in one atomic write. A failure at
any step leaves the settings file, the keyring and the local SQLite workspace as they were.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from studio.engine.config import Settings
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.secrets import SecretStore
from studio.engine.urls import redact, split_password, with_password

MIN_POSTGRES = 13
MIN_REDIS = 5  # PriorityRedisHuey pops with ZPOPMIN
SECRET_POSTGRES, SECRET_REDIS, SECRET_S3 = "server.postgres", "server.redis", "server.s3"


@dataclass(frozen=True, slots=True)
class ServerTarget:
    database_url: str  # may carry its password; it is split off before anything is stored
    redis_url: str
    s3_endpoint: str
    s3_bucket: str
    s3_access_key: str
    s3_secret_key: str = field(repr=False, default="")
    s3_ca_bundle: str = ""

    def validate(self) -> None:
        scheme = urlsplit(self.database_url).scheme
        if not scheme.startswith("postgresql"):
            raise InvalidInput(f"The database URL must start with postgresql://, not '{scheme}://'.")
        if urlsplit(self.redis_url).scheme not in ("redis", "rediss"):
            raise InvalidInput("The Redis URL must start with redis:// or rediss:// (TLS).")
        if urlsplit(self.s3_endpoint).scheme not in ("http", "https"):
            raise InvalidInput("The S3 endpoint must start with http:// or https:// (TLS).")
        if not self.s3_bucket or not self.s3_access_key:
            raise InvalidInput("The S3 bucket and access key are both needed.")
        if not self.s3_secret_key:
            raise InvalidInput("The S3 secret key is missing (secret server.s3).")


@dataclass(frozen=True, slots=True)
class Check:
    service: str
    ok: bool
    version: str
    detail: str


@dataclass(frozen=True, slots=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def lines(self) -> list[str]:
        return [f"{'ok  ' if c.ok else 'FAIL'}  {c.service:<10} {c.version or '-':<22} {c.detail}"
                for c in self.checks]


# Checks -----------------------------------------------------------------------------------------

def check_postgres(url: str) -> Check:
    import psycopg

    from studio.engine.db.database import head_revision
    from studio.engine.server.roles import first_value
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=5, autocommit=True) as conn:
            version = str(first_value(conn, "SHOW server_version")).split()[0]
            user = str(first_value(conn, "SELECT current_user"))
            can_create = bool(first_value(conn, "SELECT has_schema_privilege('public', 'CREATE')"))
            tls = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            has_table = first_value(conn, "SELECT to_regclass('public.alembic_version')")
            revision = None
            if has_table is not None:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = str(row[0]) if row else None
    except psycopg.Error as exc:
        return Check("PostgreSQL", False, "", f"cannot connect to {redact(url)}: {_one_line(exc)}")
    tls_text = "TLS" if tls and tls[0] else "no TLS"
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < MIN_POSTGRES:
        return Check("PostgreSQL", False, version, f"version {MIN_POSTGRES} or newer is needed")
    head = head_revision()
    if revision == head:
        schema = f"schema up to date ({head})"
    elif can_create:
        schema = f"schema {revision or 'empty'}, will be migrated to {head}"
    else:
        return Check("PostgreSQL", False, version,
                     f"role '{user}' may not create tables in schema public and the schema is "
                     f"at {revision or 'nothing'}, not {head}; ask the admin to run the migrations")
    return Check("PostgreSQL", True, version, f"role '{user}', {schema}, {tls_text}")


def server_workspace(database_url: str, name: str | None) -> uuid.UUID | None:
    """The server's workspace named ``name``; without a name, the single workspace a workspace
    role sees. None where the server has none (an empty server, or an unreachable one, which
    ``check_postgres`` reports)."""
    import psycopg

    from studio.engine.server.roles import first_value, workspace_role_in
    if not name and workspace_role_in(database_url) is None:
        return None  # the team role: the studio's own current workspace
    try:
        with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=5) as conn:
            if first_value(conn, "SELECT to_regclass('public.workspaces')") is None:
                return None
            if name:
                rows = conn.execute("SELECT id FROM workspaces WHERE name = %s", (name,)).fetchall()
            else:
                rows = conn.execute("SELECT id FROM workspaces").fetchall()
    except psycopg.Error:
        return None
    return uuid.UUID(str(rows[0][0])) if len(rows) == 1 else None


def check_redis(url: str) -> Check:
    import redis

    from studio.engine.jobs.queues import redis_key
    queue = redis_key("redis", "general")  # the recipe's desk and worker users may use only these
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            version = str(client.info("server").get("redis_version", ""))
        except redis.ResponseError:
            version = ""  # INFO may be denied by an ACL; the queue needs none of it
        client.zcard(queue)  # may read the queue
        client.zadd(queue, {f"check:{uuid.uuid4().hex}": 0}, xx=True)  # may write it: XX adds nothing
        client.close()
    except redis.RedisError as exc:
        return Check("Redis", False, "", f"cannot use {redact(url)}: {_one_line(exc)}")
    if version and int(version.split(".")[0]) < MIN_REDIS:
        return Check("Redis", False, version, f"version {MIN_REDIS} or newer is needed")
    tls_text = "TLS" if url.startswith("rediss://") else "no TLS"
    return Check("Redis", True, version or "unknown", f"read, write and sorted sets work, {tls_text}")


def check_s3(target: ServerTarget, workspace_id: uuid.UUID) -> Check:
    """Writes, reads and deletes a probe object inside the workspace's own prefix: per-workspace
    credentials may do nothing else."""
    from studio.engine.storage.s3 import S3Config, client_for, explain
    config = S3Config(endpoint=target.s3_endpoint, bucket=target.s3_bucket,
                      access_key=target.s3_access_key, secret_key=target.s3_secret_key,
                      verify=target.s3_ca_bundle or True)
    client = client_for(config)
    key = f"images/{workspace_id}/.studio-check-{uuid.uuid4().hex}"
    try:
        answer = client.put_object(Bucket=target.s3_bucket, Key=key, Body=b"check")
        server = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("server", "")
        read = client.get_object(Bucket=target.s3_bucket, Key=key)["Body"].read()
        client.delete_object(Bucket=target.s3_bucket, Key=key)
    except Exception as exc:  # botocore raises many kinds; each becomes one line
        error = explain(exc, f"bucket '{target.s3_bucket}'")
        hint = ""
        if "NoSuchBucket" in str(error):
            hint = "; create the bucket first (MinIO does not create one on first write)"
        return Check("S3", False, "", f"{target.s3_endpoint}: {error}{hint}")
    if read != b"check":
        return Check("S3", False, server, "the server did not return what was written")
    tls_text = "TLS" if target.s3_endpoint.startswith("https://") else "no TLS"
    return Check("S3", True, server or "unknown",
                 f"bucket '{target.s3_bucket}': write, read, delete in the workspace's prefix, {tls_text}")


def check_server(target: ServerTarget, workspace_id: uuid.UUID) -> Report:
    target.validate()
    return Report((check_postgres(target.database_url), check_redis(target.redis_url),
                   check_s3(target, workspace_id)))


# Connect and disconnect -------------------------------------------------------------------------

def target_from_settings(settings: Settings, secrets: SecretStore) -> ServerTarget:
    server = settings.server
    if not server.database_url:
        raise InvalidInput("This studio is not connected to a server; use `server connect`.")
    return ServerTarget(
        database_url=with_password(server.database_url, secrets.get(SECRET_POSTGRES)),
        redis_url=with_password(server.redis_url, secrets.get(SECRET_REDIS)),
        s3_endpoint=server.s3_endpoint, s3_bucket=server.s3_bucket,
        s3_access_key=server.s3_access_key, s3_secret_key=secrets.get(SECRET_S3) or "",
        s3_ca_bundle=server.s3_ca_bundle)


def connect(settings: Settings, secrets: SecretStore, target: ServerTarget, *,
            workspace_id: uuid.UUID, save: Callable[[Settings], None],
            keep_local: bool = False) -> Report:
    """Checks, migrates, then stores secrets and switches the settings; ``save`` writes them.
    With ``keep_local`` the studio goes on working on its local database and queue, and only
    remembers the server for publishing and syncing workspaces (offline work, synced later)."""
    report = check_server(target, workspace_id)
    if not report.ok:
        return report
    from studio.engine.db.database import Database
    try:
        Database.open(target.database_url).dispose()  # migrations run on the server's database
    except StudioError as exc:
        return Report((*report.checks, Check("Migrations", False, "", str(exc))))
    new = _server_settings(settings, target, keep_local=keep_local)
    _store_and_save(secrets, target, lambda: save(new))
    settings.take(new)
    return Report((*report.checks, Check("Migrations", True, "", "server database at the latest schema")))


def _server_settings(settings: Settings, target: ServerTarget, *, keep_local: bool) -> Settings:
    """A copy of ``settings`` pointing at the server, its URLs without their passwords."""
    db_url, _ = split_password(target.database_url)
    redis_url, _ = split_password(target.redis_url)
    new = settings.copy()
    new.server.database_url = db_url
    new.server.redis_url = redis_url
    new.server.s3_endpoint = target.s3_endpoint
    new.server.s3_bucket = target.s3_bucket
    new.server.s3_access_key = target.s3_access_key
    new.server.s3_ca_bundle = target.s3_ca_bundle
    if not keep_local:
        new.database.url = db_url
        new.queue.backend = "redis"
        new.queue.redis_url = redis_url
    return new


def _store_and_save(secrets: SecretStore, target: ServerTarget, save: Callable[[], None]) -> None:
    """Stores the server's passwords, then saves; a failed save takes the new passwords back."""
    passwords = ((SECRET_POSTGRES, split_password(target.database_url)[1]),
                 (SECRET_REDIS, split_password(target.redis_url)[1]),
                 (SECRET_S3, target.s3_secret_key))
    stored: list[str] = []
    try:
        for name, value in passwords:
            if value:
                secrets.set(name, value)
                stored.append(name)
        save()
    except StudioError:
        for name in stored:
            secrets.delete(name)
        raise


def disconnect(settings: Settings, secrets: SecretStore, *, save: Callable[[Settings], None]) -> None:
    """Back to solo mode: the local SQLite database and queue; the server's passwords forgotten."""
    new = settings.copy()
    new.server.database_url = new.server.redis_url = ""
    new.server.s3_endpoint = new.server.s3_bucket = new.server.s3_access_key = ""
    new.server.s3_ca_bundle = ""
    new.database.url = ""
    new.queue.backend = "sqlite"
    new.queue.redis_url = ""
    save(new)
    for name in (SECRET_POSTGRES, SECRET_REDIS, SECRET_S3):
        secrets.delete(name)
    settings.take(new)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
