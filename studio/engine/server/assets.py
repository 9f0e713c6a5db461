"""Team mode: jobs read and write files in the shared S3 bucket, under the same keys as on disk.

A job works on the local asset store as in solo mode. Before it runs, the dataset images it
names (``dataset_id`` or ``image_ids`` in its payload) that this machine lacks are fetched
from S3; before it is marked completed, the files of the Asset and LoRA rows it made, and of
the dataset it worked on, are uploaded (skipped when the same bytes are there), so a studio or
worker on another machine finds them.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database
from studio.engine.db.models import Asset, DatasetImage, LoraModel
from studio.engine.secrets import SecretStore
from studio.engine.server.connect import SECRET_S3
from studio.engine.storage.local import LocalStore
from studio.engine.storage.s3 import S3Config, S3Store

log = logging.getLogger("studio.team")


def team_store(settings: Settings, paths: Paths, secrets: SecretStore) -> S3Store | None:
    """The server's bucket when this studio works on the server's database; else None."""
    server = settings.server
    if not (settings.database.url and server.s3_endpoint and server.s3_bucket):
        return None
    return S3Store(S3Config(endpoint=server.s3_endpoint, bucket=server.s3_bucket,
                            access_key=server.s3_access_key, secret_key=secrets.get(SECRET_S3) or "",
                            verify=server.s3_ca_bundle or True),
                   state_dir=paths.cache_dir / "uploads")


def dataset_keys(db: Database, payload: dict[str, Any]) -> list[str]:
    """The storage keys of the dataset images a job's payload names."""
    query = None
    try:
        if payload.get("image_ids"):
            ids = [uuid.UUID(str(i)) for i in payload["image_ids"]]  # type: ignore[union-attr]
            query = select(DatasetImage.storage_key).where(DatasetImage.id.in_(ids))
        elif payload.get("dataset_id"):
            query = select(DatasetImage.storage_key).where(
                DatasetImage.dataset_id == uuid.UUID(str(payload["dataset_id"])))
    except (TypeError, ValueError):
        return []  # a malformed id: the job's own handler says so plainly
    if query is None:
        return []
    with db.session() as session:
        return list(session.scalars(query))


def fetch_job_inputs(db: Database, local: LocalStore, store: S3Store,
                     payload: dict[str, Any]) -> list[str]:
    """Downloads the job's dataset images this machine lacks; returns the keys fetched."""
    fetched = []
    for key in dataset_keys(db, payload):
        if not local.path(key).is_file() and store.exists(key):
            store.get_file(key, local.path(key))
            fetched.append(key)
    return fetched


def upload_job_outputs(db: Database, local: LocalStore, store: S3Store, job_id: uuid.UUID,
                       payload: dict[str, Any] | None = None) -> list[str]:
    """Uploads the files of the rows this job made or worked on; returns their keys."""
    with db.session() as session:
        keys = list(session.scalars(select(Asset.storage_key).where(Asset.job_id == job_id)))
        keys += list(session.scalars(select(LoraModel.storage_key).where(
            LoraModel.training_job_id == job_id)))
    keys += dataset_keys(db, payload or {})  # an import's new images
    uploaded = []
    for key in keys:
        source = local.path(key)
        if source.is_file():
            store.put_file(source, key)
            uploaded.append(key)
        else:
            log.warning("job %s: %s has no local file to upload", job_id, key)
    return uploaded
