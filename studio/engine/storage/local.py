"""The local asset store: files under the data folder's ``assets/``, addressed by key."""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_writer

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    path: Path
    sha256: str
    size_bytes: int


def check_key(key: str) -> str:
    """Keys are relative POSIX paths that stay inside the store."""
    pure = PurePosixPath(key)
    if not key or pure.is_absolute() or ".." in pure.parts or "\\" in key or "\x00" in key:
        raise InvalidInput(f"'{key}' is not a valid storage key.")
    return str(pure)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put_file(self, source: Path, key: str) -> StoredFile:
        """Copies ``source`` to ``key`` byte for byte; the target appears whole or not at all."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with atomic_writer(target) as out, source.open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        return StoredFile(key=check_key(key), path=target, sha256=digest.hexdigest(),
                          size_bytes=target.stat().st_size)

    def put_bytes(self, data: bytes, key: str) -> StoredFile:
        """Stores ``data`` at ``key``; the target appears whole or not at all."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(target) as out:
            out.write(data)
        return StoredFile(key=check_key(key), path=target, sha256=hashlib.sha256(data).hexdigest(),
                          size_bytes=len(data))

    def delete(self, key: str) -> None:
        path = self.path(key)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
