"""Team mode: jobs read and write files in the shared S3 bucket, under the same keys as on disk.

A job works on the local asset store as in solo mode. Its payload names files by asset key
(``studio.engine.jobs.payloads.AssetKey``): at submit time those files go to the bucket
(skipped when the same bytes are there); before the job runs on a machine that lacks them they
are fetched, together with the dataset images the payload names by ``dataset_id`` or
``image_ids``; before it is marked completed the files its result names, those of the Asset and
LoRA rows it made and of the dataset it worked on are uploaded, so a studio or worker on
another machine finds them. Keys are read against each machine's own asset folder, so no path
in a payload or result is ever rewritten.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from sqlalchemy import select

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database
from studio.engine.db.models import Asset, DatasetImage, LoraModel
from studio.engine.errors import InvalidInput, NotFound, StudioError
from studio.engine.jobs.inputs import report_upload
from studio.engine.jobs.payloads import AssetKey, asset_keys, input_paths
from studio.engine.secrets import SecretStore
from studio.engine.server.connect import SECRET_S3
from studio.engine.storage.local import LocalStore, check_key

if TYPE_CHECKING:
    from studio.engine.storage.s3 import S3Store

log = logging.getLogger("studio.team")


def team_store(settings: Settings, paths: Paths, secrets: SecretStore) -> S3Store | None:
    """The server's bucket when this studio works on the server's database; else None."""
    server = settings.server
    if not (settings.database.url and server.s3_endpoint and server.s3_bucket):
        return None
    return _bucket_of(settings, paths, secrets)


def _bucket_of(settings: Settings, paths: Paths, secrets: SecretStore) -> S3Store:
    """The server's bucket. boto3 is imported here, not with this module: only team mode uses
    it, and importing it cost every app start ~75 ms."""
    from studio.engine.storage.s3 import S3Config, S3Store
    server = settings.server
    return S3Store(S3Config(endpoint=server.s3_endpoint, bucket=server.s3_bucket,
                            access_key=server.s3_access_key, secret_key=secrets.get(SECRET_S3) or "",
                            verify=server.s3_ca_bundle or True),
                   state_dir=paths.cache_dir / "uploads")


def dataset_keys(db: Database, payload: object) -> list[str]:
    """The storage keys of the dataset images a job's payload names (its ``image_ids``, else
    every image of its ``dataset_id``)."""
    image_ids = getattr(payload, "image_ids", None)
    dataset_id = getattr(payload, "dataset_id", None)
    if image_ids:
        query = select(DatasetImage.storage_key).where(
            DatasetImage.id.in_([uuid.UUID(str(i)) for i in image_ids]))
    elif isinstance(dataset_id, uuid.UUID):
        query = select(DatasetImage.storage_key).where(DatasetImage.dataset_id == dataset_id)
    else:
        return []
    with db.session() as session:
        return list(session.scalars(query))


class BucketUploads:
    """The team-mode submit hook: puts the files a payload names in the bucket before its job is
    written (so a failed upload leaves no job), with progress for whoever submits, and refuses
    a payload that names a file on this desk by path, which a worker elsewhere cannot read."""

    def __init__(self, settings: Settings, paths: Paths, secrets: SecretStore) -> None:
        self.settings, self.paths, self.secrets = settings, paths, secrets
        self.local = LocalStore(paths.assets_dir)

    def __call__(self, payload: object) -> None:
        refuse_desk_paths(payload)
        keys = [key for key in asset_keys(payload) if self.local.exists(key)]
        if keys:  # no bucket call for the common payload that names no file
            self.put_all([(self.local.path(key), key) for key in keys])

    def put_all(self, files: Sequence[tuple[Path, AssetKey]]) -> None:
        """Uploads each file to its key unless the bucket holds the same bytes there already;
        large files go up in parts. Progress counts bytes over all the files."""
        store = team_store(self.settings, self.paths, self.secrets)
        if store is None or not files:
            return
        sizes = [source.stat().st_size for source, _ in files]
        total, sent = max(sum(sizes), 1), 0
        shown = (f"Uploading {files[0][0].name} to the server" if len(files) == 1 else
                 f"Uploading {len(files)} files ({total / 2**20:.1f} MB) to the server")
        for (source, key), size in zip(files, sizes, strict=True):

            def part(number: int, parts: int, before: int = sent, size: int = size) -> None:
                report_upload(shown, (before + size * number / parts) / total)
            report_upload(shown, sent / total)
            store.put_file(source, key, on_part=part)
            sent += size
            report_upload(shown, sent / total)


def refuse_desk_paths(payload: object) -> None:
    """One line naming a path a payload would carry to a worker that cannot read it."""
    found = input_paths(payload)
    if found:
        where, path = found[0]
        raise InvalidInput(f"{path} is a file on this machine, which a worker on another machine "
                           f"cannot read ({where}); give it as a file in the studio instead.")


def submit_hook(settings: Settings, paths: Paths, secrets: SecretStore) -> BucketUploads | None:
    """What the job service applies to each payload it queues: None in solo mode."""
    if team_store(settings, paths, secrets) is None:
        return None
    return BucketUploads(settings, paths, secrets)


def fetch_job_inputs(db: Database, local: LocalStore, store: S3Store, payload: object) -> list[str]:
    """Downloads the job's dataset images and named asset files this machine lacks; returns
    the keys fetched. A named file the bucket lacks stops the job with its name."""
    fetched = []
    for key in dataset_keys(db, payload):
        if not local.path(key).is_file() and store.exists(key):
            store.get_file(key, local.path(key))
            fetched.append(key)
    for key in asset_keys(payload):
        if local.path(key).is_file():
            continue
        if not store.exists(key):
            raise NotFound(f"{key} is neither on this machine nor on the server.")
        store.get_file(key, local.path(key))
        fetched.append(key)
    return fetched


def upload_job_outputs(db: Database, local: LocalStore, store: S3Store, job_id: uuid.UUID,
                       payload: object = None, result: object = None) -> list[str]:
    """Uploads the files the job's result names and those of the rows it made or worked on;
    returns their keys."""
    with db.session() as session:
        keys = list(session.scalars(select(Asset.storage_key).where(Asset.job_id == job_id)))
        keys += list(session.scalars(select(LoraModel.storage_key).where(
            LoraModel.training_job_id == job_id)))
    keys += dataset_keys(db, payload)  # an import's new images
    keys += asset_keys(result)
    uploaded = []
    for key in dict.fromkeys(keys):
        source = local.path(key)
        if source.is_file():
            store.put_file(source, key)
            uploaded.append(key)
        else:
            log.warning("job %s: %s has no local file to upload", job_id, key)
    return uploaded


class BucketFiles:
    """A job's files through the team's bucket: what the runner calls before and after a job."""

    def __init__(self, db: Database, local: LocalStore, store: S3Store) -> None:
        self.db, self.local, self.store = db, local, store

    def fetch_inputs(self, payload: object) -> None:
        fetch_job_inputs(self.db, self.local, self.store, payload)

    def upload_outputs(self, job_id: uuid.UUID, payload: object, result: object) -> None:
        upload_job_outputs(self.db, self.local, self.store, job_id, payload, result)


def team_files(settings: Settings, paths: Paths, db: Database) -> BucketFiles | None:
    """The bucket when this studio works on the server's database and files; else None."""
    if not (settings.database.url and settings.server.s3_endpoint):
        return None
    from studio.engine.secrets import secret_store_for
    store = team_store(settings, paths, secret_store_for(paths))
    return None if store is None else BucketFiles(db, LocalStore(paths.assets_dir), store)


def _key_under(text: str, root: Path) -> str | None:
    """The storage key of an absolute path inside ``root``; None for anything else."""
    if not text.startswith(str(root)) or len(text) > 4096:
        return None
    try:
        relative = PurePath(text).relative_to(root)
        return check_key(relative.as_posix()) if relative.parts else None
    except (ValueError, InvalidInput):
        return None


class OnDemandAssets:
    """An asset file this machine lacks (a record synced or shared from another studio) is
    fetched from the server's bucket the first time something wants to show it. Blocking: call
    it from a loader thread, never the UI thread. One download per key at a time."""

    def __init__(self, settings: Settings, paths: Paths, secrets: SecretStore) -> None:
        self.settings, self.paths, self.secrets = settings, paths, secrets
        self.local = LocalStore(paths.assets_dir)
        self._store: S3Store | None = None
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def _bucket(self) -> S3Store:
        with self._lock:
            if self._store is None:
                self._store = _bucket_of(self.settings, self.paths, self.secrets)
            return self._store

    def ensure(self, path: Path) -> bool:
        """True when ``path`` is a local file now; False when it lies outside the asset folder
        or the bucket cannot give it (logged, so a missing thumbnail has a reason on record)."""
        if path.is_file():
            return True
        key = _key_under(str(path), self.local.root)
        if key is None:
            return False
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if path.is_file():
                return True  # another thread fetched it meanwhile
            from studio.engine.sync.sides import fetch_asset
            try:
                fetch_asset(self.local, self._bucket(), key)
            except StudioError as exc:
                log.warning("could not fetch %s from the server: %s", key, exc)
                return False
        return True


def on_demand_assets(settings: Settings, paths: Paths, secrets: SecretStore) -> OnDemandAssets | None:
    """The fetcher for a studio that knows a server's bucket; None in solo mode."""
    server = settings.server
    if not (server.s3_endpoint and server.s3_bucket):
        return None
    return OnDemandAssets(settings, paths, secrets)
