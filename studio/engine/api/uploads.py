"""Pictures and .zip archives sent to the API, kept in the data folder's cache until their import
job has read them. The import job runs later (in a worker), so a request's temporary files would
be gone by then; folders left by earlier uploads are cleared once their day is over."""
from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from studio.engine.api.sanitize import file_name
from studio.engine.errors import InvalidInput

KEEP_S = 24 * 3600
CHUNK = 1024 * 1024


class Upload(Protocol):
    """What a multipart file part gives (Starlette's UploadFile)."""

    filename: str | None
    file: BinaryIO


def uploads_dir(cache_dir: Path) -> Path:
    return cache_dir / "api-uploads"


def store_uploads(cache_dir: Path, files: Sequence[Upload], *, now: float | None = None) -> Path:
    """A new folder holding ``files`` under their own (file) names; the import reads that folder."""
    if not files:
        raise InvalidInput("Send at least one picture or .zip archive as a 'files' part.")
    root = uploads_dir(cache_dir)
    clear_old(root, now=time.time() if now is None else now)
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True)
    for index, upload in enumerate(files):
        name = _safe_name(upload.filename, index)
        target = folder / name
        if target.exists():
            target = folder / f"{index}-{name}"
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out, CHUNK)
    return folder


def clear_old(root: Path, *, now: float) -> None:
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > KEEP_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # another request cleared it first


def _safe_name(given: str | None, index: int) -> str:
    """The part's file name without any folder in it; a made-up one when it has none."""
    name = file_name(given or "").strip().lstrip(".")
    return name[:200] if name else f"upload-{index}"
