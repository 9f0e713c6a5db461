"""The two sides of a sync: this studio's database and files, and the team server's."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database
from studio.engine.db.models import Base
from studio.engine.secrets import SecretStore
from studio.engine.storage.local import LocalStore

if TYPE_CHECKING:  # boto3 is imported only where a bucket is opened (team mode)
    from studio.engine.storage.s3 import S3Store


@dataclass(frozen=True, slots=True)
class Sides:
    local: Database
    server: Database
    local_store: LocalStore
    remote_store: S3Store
    state_dir: Path


def fetch_asset(local_store: LocalStore, remote_store: S3Store, key: str) -> Path:
    """The local file for ``key``, downloaded from S3 the first time it is wanted."""
    path = local_store.path(key)
    if path.is_file():
        return path
    return remote_store.get_file(key, path)


def open_sides(local: Database, paths: Paths, settings: Settings, secrets: SecretStore) -> Sides:
    """Both sides for this studio: its local database and files, the server it remembers."""
    from studio.engine.server.connect import target_from_settings
    from studio.engine.storage.s3 import S3Config, S3Store
    target = target_from_settings(settings, secrets)
    server = Database.open(target.database_url)
    remote = S3Store(S3Config(endpoint=target.s3_endpoint, bucket=target.s3_bucket,
                              access_key=target.s3_access_key, secret_key=target.s3_secret_key,
                              verify=target.s3_ca_bundle or True),
                     state_dir=paths.cache_dir / "uploads")
    return Sides(local=local, server=server, local_store=LocalStore(paths.assets_dir),
                 remote_store=remote, state_dir=paths.data_dir / "sync")


def server_workspaces(server: Database) -> list[tuple[uuid.UUID, str]]:
    table = Base.metadata.tables["workspaces"]
    with server.engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.name).order_by(table.c.name)).all()
    return [(row[0], str(row[1])) for row in rows]
