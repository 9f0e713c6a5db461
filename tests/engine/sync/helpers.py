"""What sync tests here and in tests/ui share: a server to sync with, studios on it, captions to edit;
the fixtures are given to tests by the conftest files that import them."""
from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from studio.engine.core import Studio
from studio.engine.db.models import DatasetImage
from studio.engine.db.repositories import Repository
from studio.engine.server.connect import ServerTarget, connect
from studio.engine.storage.local import LocalStore
from studio.engine.sync.records import WorkspaceSync
from studio.engine.sync.sides import open_sides


@pytest.fixture
def sync_target(postgres_url: str, redis_url: str, s3_server: str) -> ServerTarget:
    bucket = f"sync{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    return ServerTarget(database_url=postgres_url, redis_url=redis_url, s3_endpoint=s3_server,
                        s3_bucket=bucket, s3_access_key="team", s3_secret_key="team-secret")


def studio_on(folder: Path, target: ServerTarget) -> Studio:
    """A solo studio that remembers the server for syncing (server connect --keep-local)."""
    studio = Studio.open(folder)
    ws = studio.workspace("Scratch", create=True)
    report = connect(studio.settings, studio.secrets, target, workspace_id=ws.id,
                     save=lambda new: None, keep_local=True)
    assert report.ok, report.lines()
    assert studio.database_url.startswith("sqlite")  # still working locally
    return studio


def add_image(studio: Studio, ws_id: uuid.UUID, dataset_id: uuid.UUID, caption: str,
              data: bytes | None = None) -> DatasetImage:
    data = os.urandom(2048) if data is None else data
    sha = hashlib.sha256(data).hexdigest()
    key = f"datasets/{ws_id}/{dataset_id}/{sha}.png"
    LocalStore(studio.paths.assets_dir).put_bytes(data, key)
    with studio.db.session() as session:
        return Repository(session, ws_id).add(DatasetImage(
            dataset_id=dataset_id, storage_key=key, sha256=sha, caption=caption, size_bytes=len(data)))


def caption(studio: Studio, ws_id: uuid.UUID, image_id: uuid.UUID) -> str:
    with studio.db.session() as session:
        return Repository(session, ws_id).get(DatasetImage, image_id).caption


def edit_caption(studio: Studio, ws_id: uuid.UUID, image_id: uuid.UUID, text: str) -> None:
    with studio.db.session() as session:
        repo = Repository(session, ws_id)
        repo.update(repo.get(DatasetImage, image_id), caption=text)


@pytest.fixture
def two_studios(tmp_path: Path, sync_target: ServerTarget) -> Iterator[tuple[Studio, Studio]]:
    """Two studios (two data folders, two machines) on one server."""
    a = studio_on(tmp_path / "a", sync_target)
    b = studio_on(tmp_path / "b", sync_target)
    yield a, b
    a.close()
    b.close()


def syncer(studio: Studio, ws_id: uuid.UUID) -> WorkspaceSync:
    return WorkspaceSync(open_sides(studio.db, studio.paths, studio.settings, studio.secrets), ws_id)
