"""Small file helpers used across the engine."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_writer(path: Path, *, mode: int | None = None, sync: bool = True) -> Iterator[BinaryIO]:
    """Writes to a temporary file beside ``path`` and renames it over, so readers never see half.
    ``sync=False`` skips the flush to the disk, for a file that need not outlive the machine's
    next start (a few ms a write on a busy disk)."""
    fd, tmp = new_temp_file(path.parent, path.name, mode=mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_temp_file(folder: Path, name: str, *, mode: int | None = None) -> tuple[int, Path]:
    """A new hidden temporary file in ``folder`` named after ``name``, open for writing (its
    descriptor), with the mode a plain ``open`` would give it (or ``mode``), not mkstemp's 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode if mode is not None else new_file_mode())
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, Path(tmp)


def new_file_mode() -> int:
    """0666 less the umask: the mode a plain ``open(path, "w")`` gives a new file."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """Linux shows it in /proc (read, not changed: no race with threads creating files);
    elsewhere it can only be read by setting it and back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None, sync: bool = True) -> None:
    with atomic_writer(path, mode=mode, sync=sync) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str, *, mode: int | None = None, sync: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode, sync=sync)


@dataclass(frozen=True, slots=True)
class FileStamp:
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> FileStamp | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return cls(stat.st_mtime_ns, stat.st_size)
