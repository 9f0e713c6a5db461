"""Team mode: jobs read and write files in the shared S3 bucket, under the same keys as on disk.

A job works on the local asset store as in solo mode. Before it runs, the dataset images it
names (``dataset_id`` or ``image_ids`` in its payload) that this machine lacks are fetched
from S3, and so are the files its payload names by path inside the submitting studio's asset
folder (``input_keys``, recorded at submit time with that folder as ``assets_root``; the
paths are then read against this machine's folder); before it is marked completed, the files of the Asset and LoRA rows it made, and of
the dataset it worked on, are uploaded (skipped when the same bytes are there), so a studio or
worker on another machine finds them.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import select

from studio.engine.config import Paths, Settings
from studio.engine.db.database import Database
from studio.engine.db.models import Asset, DatasetImage, LoraModel
from studio.engine.errors import InvalidInput, NotFound, StudioError
from studio.engine.secrets import SecretStore
from studio.engine.server.connect import SECRET_S3
from studio.engine.storage.local import LocalStore, check_key
from studio.engine.storage.s3 import S3Config, S3Store

log = logging.getLogger("studio.team")

INPUT_KEYS = "input_keys"
ASSETS_ROOT = "assets_root"


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


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _key_under(text: str, root: Path) -> str | None:
    """The storage key of an absolute path inside ``root``; None for anything else."""
    if not text.startswith(str(root)) or len(text) > 4096:
        return None  # cheap test first: most strings are prompts and names
    try:
        relative = PurePath(text).relative_to(root)
        return check_key(relative.as_posix()) if relative.parts else None
    except (ValueError, InvalidInput):
        return None


def input_keys(payload: dict[str, Any], assets_dir: Path) -> list[str]:
    """The keys of the asset files a payload names by absolute path."""
    return sorted({key for text in _strings(payload) if (key := _key_under(text, assets_dir))
                   and (assets_dir / key).is_file()})


def share_inputs(payload: dict[str, Any], local: LocalStore,
                 store: S3Store) -> dict[str, Any]:
    """At submit time: the payload with the asset files it names recorded by key, each put in
    the bucket (skipped when the same bytes are there) so a worker elsewhere can fetch it."""
    keys = input_keys(payload, local.root)
    if not keys:
        return payload
    for key in keys:
        store.put_file(local.path(key), key)
    return {**payload, INPUT_KEYS: keys, ASSETS_ROOT: str(local.root)}


def submit_hook(settings: Settings, paths: Paths,
                secrets: SecretStore) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What the job service applies to each payload it queues: None in solo mode."""
    if team_store(settings, paths, secrets) is None:
        return None
    local = LocalStore(paths.assets_dir)

    def hook(payload: dict[str, Any]) -> dict[str, Any]:
        if not input_keys(payload, local.root):
            return payload  # no bucket call for the common payload that names no asset
        store = team_store(settings, paths, secrets)
        return payload if store is None else share_inputs(payload, local, store)
    return hook


def _relocated(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new + value[len(old):] if value.startswith(old) else value
    if isinstance(value, dict):
        return {k: _relocated(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocated(v, old, new) for v in value]
    return value


def localize_payload(payload: dict[str, Any], assets_dir: Path) -> dict[str, Any]:
    """The payload with the submitting studio's asset paths read against this machine's folder."""
    root = payload.get(ASSETS_ROOT)
    if not isinstance(root, str) or not root or PurePath(root) == PurePath(assets_dir):
        return payload
    old = root.rstrip("/\\") + "/"
    return _relocated(payload, old, str(assets_dir).rstrip("/") + "/")


def submitted_paths(value: Any, payload: dict[str, Any], assets_dir: Path) -> Any:
    """The reverse of ``localize_payload``: what a job records (its result, its assets' recipes)
    names the submitting studio's files again, as it would have had the job run there."""
    root = payload.get(ASSETS_ROOT)
    if not isinstance(root, str) or not root or PurePath(root) == PurePath(assets_dir):
        return value
    return _relocated(value, str(assets_dir).rstrip("/") + "/", root.rstrip("/\\") + "/")


def restore_submitted_paths(db: Database, job_id: uuid.UUID, payload: dict[str, Any],
                            assets_dir: Path) -> None:
    """Rewrites the meta of the assets this job made with ``submitted_paths``."""
    if not payload.get(ASSETS_ROOT):
        return
    with db.session() as session:
        for asset in session.scalars(select(Asset).where(Asset.job_id == job_id)):
            meta = submitted_paths(asset.meta, payload, assets_dir)
            if meta != asset.meta:
                asset.meta = meta


def _named_keys(payload: dict[str, Any]) -> list[str]:
    raw = payload.get(INPUT_KEYS) or []
    if not isinstance(raw, list):
        raise InvalidInput("The job's input_keys is not a list of storage keys.")
    return [check_key(str(key)) for key in raw]


def fetch_job_inputs(db: Database, local: LocalStore, store: S3Store,
                     payload: dict[str, Any]) -> list[str]:
    """Downloads the job's dataset images and named asset files this machine lacks; returns
    the keys fetched. A named file the bucket lacks stops the job with its name."""
    fetched = []
    for key in dataset_keys(db, payload):
        if not local.path(key).is_file() and store.exists(key):
            store.get_file(key, local.path(key))
            fetched.append(key)
    for key in _named_keys(payload):
        if local.path(key).is_file():
            continue
        if not store.exists(key):
            raise NotFound(f"{key} is neither on this machine nor on the server.")
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
                server = self.settings.server
                self._store = S3Store(
                    S3Config(endpoint=server.s3_endpoint, bucket=server.s3_bucket,
                             access_key=server.s3_access_key,
                             secret_key=self.secrets.get(SECRET_S3) or "",
                             verify=server.s3_ca_bundle or True),
                    state_dir=self.paths.cache_dir / "uploads")
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
            from studio.engine.storage.sync import fetch_asset
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
