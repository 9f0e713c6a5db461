"""Files for job payloads: asset keys made from the paths a user picks, and keys read back.

A payload names files by asset key so any machine can run the job. A file already in the asset
store is named by its own key; a file from outside (a clip or picture on the desk) is copied
into the store first, under ``inputs/<workspace>/<sha256>/<name>``: the same bytes twice are
one copy, and the job still works after the original is moved or deleted.

In team mode the submit also puts such files in the server's bucket (``server/assets.py``), so
a worker on another machine fetches them by key; ``reporting_uploads`` lets whoever submits
(the command line, a panel) show that upload's progress.
"""
from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol, runtime_checkable

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
    key = input_key(workspace_id, sha256_file(source), source.name)
    if not store.exists(key):
        store.put_file(source, key)
    return key


def input_key(workspace_id: uuid.UUID, sha256: str, name: str) -> AssetKey:
    """Where a file from outside the studio is kept: by its content, so the same bytes picked
    twice are stored (and uploaded) once."""
    return AssetKey(f"inputs/{workspace_id}/{sha256}/{safe_name(name)}")


def studio_origin(paths: Paths) -> str:
    """Which studio submitted a job: its host and data folder. A payload that names a path
    outside the store (where to copy an export) names one on that machine only."""
    return f"{socket.gethostname()}:{paths.data_dir}"


def asset_file(assets_dir: Path, key: AssetKey | str) -> Path:
    """Where an asset key's file is on this machine."""
    return LocalStore(assets_dir).path(key)


UploadProgress = Callable[[str, float], None]  # (what is being sent, fraction of all bytes)
_progress: ContextVar[UploadProgress | None] = ContextVar("upload_progress", default=None)


@contextmanager
def reporting_uploads(report: UploadProgress) -> Iterator[None]:
    """Submits made inside this block report the uploads of their files to ``report``."""
    token = _progress.set(report)
    try:
        yield
    finally:
        _progress.reset(token)


def report_upload(message: str, fraction: float) -> None:
    report = _progress.get()
    if report is not None:
        report(message, min(max(fraction, 0.0), 1.0))


@runtime_checkable
class Uploads(Protocol):
    """What a team-mode submit uses to put files from the desk in the server's bucket."""

    def __call__(self, payload: object) -> None: ...

    def put_all(self, files: Sequence[tuple[Path, AssetKey]]) -> None: ...


def desk_uploads(prepare: object) -> Uploads | None:
    """The job service's submit hook when it uploads (team mode); None in solo mode, where a
    worker reads the files where they are."""
    return prepare if isinstance(prepare, Uploads) else None
