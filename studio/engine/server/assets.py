"""Team mode: a worker's outputs go to the shared S3 bucket under the same keys as on disk.

A job writes its files to the local asset store as in solo mode; before the job is marked
completed, the files of the Asset and LoRA rows it made are uploaded (skipped when the same
bytes are there), so a studio on another machine can fetch them (``fetch_asset``).
"""
from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database
from studio.engine.db.models import Asset, LoraModel
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


def upload_job_outputs(db: Database, local: LocalStore, store: S3Store, job_id: uuid.UUID) -> list[str]:
    """Uploads the files of the rows this job made; returns their keys."""
    with db.session() as session:
        keys = list(session.scalars(select(Asset.storage_key).where(Asset.job_id == job_id)))
        keys += list(session.scalars(select(LoraModel.storage_key).where(
            LoraModel.training_job_id == job_id)))
    uploaded = []
    for key in keys:
        source = local.path(key)
        if source.is_file():
            store.put_file(source, key)
            uploaded.append(key)
        else:
            log.warning("job %s: %s has no local file to upload", job_id, key)
    return uploaded
