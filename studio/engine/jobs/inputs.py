"""Files for job payloads: asset keys made from the paths a user picks, and keys read back.

A payload names files by asset key so any machine can run the job. A file already in the asset
store is named by its own key; a file from outside (a clip or picture on the desk) is copied
into the store first, under ``inputs/<workspace>/<sha256>/<name>``: the same bytes twice are
one copy, and the job still works after the original is moved or deleted.
"""
from __future__ import annotations

import re
import socket
import uuid
from pathlib import Path

from studio.engine.config import Paths
from studio.engine.errors import InvalidInput
from studio.engine.jobs.payloads import AssetKey
from studio.engine.storage.local import LocalStore, sha256_file

_UNSAFE = re.compile(r"[^\w.() ,'+-]", re.UNICODE)


def safe_name(name: str) -> str:
    """A file name every file system and S3 takes, keeping its suffix."""
    return _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .") or "file"


def import_input(assets_dir: Path, workspace_id: uuid.UUID, path: Path) -> AssetKey:
    """The asset key of ``path``: its own key inside the store, else the key of a copy."""
    source = Path(path).expanduser().absolute()
    if not source.is_file():
        raise InvalidInput(f"{source} does not exist or is not a file.")
    store = LocalStore(assets_dir)
    root = store.root.absolute()
    if source.is_relative_to(root):
        return AssetKey(source.relative_to(root).as_posix())
    key = AssetKey(f"inputs/{workspace_id}/{sha256_file(source)}/{safe_name(source.name)}")
    if not store.exists(key):
        store.put_file(source, key)
    return key


def studio_origin(paths: Paths) -> str:
    """Which studio submitted a job: its host and data folder. A payload that names a path
    outside the store (where to copy an export) names one on that machine only."""
    return f"{socket.gethostname()}:{paths.data_dir}"


def asset_file(assets_dir: Path, key: AssetKey | str) -> Path:
    """Where an asset key's file is on this machine."""
    return LocalStore(assets_dir).path(key)
