"""Read-only folders and full disks, said in one plain line instead of an OSError's traceback.

Both come from the operating system (``OSError`` with EROFS, EACCES, ENOSPC, EDQUOT) or from
SQLite, which words them itself ("attempt to write a readonly database", "database or disk is
full"). Either way the user reads which folder it is and, for a full disk, how much is free.
"""
from __future__ import annotations

import errno
import shutil
from pathlib import Path

from studio.engine.errors import DiskError

READ_ONLY = frozenset({errno.EROFS})
DENIED = frozenset({errno.EACCES, errno.EPERM})  # about a file only when the error names one
FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
SQLITE_READ_ONLY = ("attempt to write a readonly database", "readonly database")
SQLITE_FULL = ("database or disk is full",)


def disk_error(exc: BaseException, data_dir: Path | None = None) -> DiskError | None:
    """The plain error ``exc`` stands for, or None when it is not about the disk.

    ``data_dir`` names the folder when the error does not (SQLite never names its file)."""
    for cause in _chain(exc):
        if isinstance(cause, DiskError):
            return cause
        kind, where = _classify(cause)
        if kind is None:
            continue
        if kind == "denied" and where is not None and not (data_dir and _inside(where, data_dir)):
            return DiskError(f"The studio may not use {where} (permission denied).")  # maybe a read
        folder = _folder(where, data_dir)
        if kind == "full":
            return DiskError(full_disk_message(folder))
        return DiskError(read_only_message(folder, data_dir, denied=kind == "denied"))
    return None


def read_only_message(folder: Path | None, data_dir: Path | None = None, *, denied: bool = False) -> str:
    state = "is not writable for this user (permission denied)" if denied else "is read-only"
    if folder is None:
        return f"The studio cannot save its files: the folder {state}."
    if data_dir is not None and _inside(folder, data_dir):
        return (f"The data folder {data_dir} {state}: the studio cannot save there. Check the "
                "folder's permissions and that its disk is not mounted read-only.")
    return f"The folder {folder} {state}: the studio cannot save there."


def full_disk_message(folder: Path | None) -> str:
    if folder is None:
        return "The disk is full: free some space and try again."
    return f"The disk holding {folder} is full: {free_mb(folder)} MB free. Free some space and try again."


def free_mb(folder: Path) -> int:
    """Free megabytes on the disk holding ``folder`` (its nearest existing parent)."""
    existing = _existing(folder)
    try:
        return shutil.disk_usage(existing).free // (1024 * 1024)
    except OSError:
        return 0


def _classify(exc: BaseException) -> tuple[str | None, Path | None]:
    if isinstance(exc, OSError):
        where = Path(exc.filename) if isinstance(exc.filename, str | Path) else None
        if exc.errno in FULL:
            return "full", where
        if exc.errno in READ_ONLY:
            return "read-only", where
        if exc.errno in DENIED and where is not None:
            return "denied", where
        return None, None
    text = str(exc).lower()
    if any(words in text for words in SQLITE_FULL):
        return "full", None
    if any(words in text for words in SQLITE_READ_ONLY):
        return "read-only", None
    return None, None


def _folder(where: Path | None, data_dir: Path | None) -> Path | None:
    if where is None:
        return data_dir
    if data_dir is not None and _inside(where, data_dir):
        return data_dir
    return where if where.is_dir() else where.parent


def _chain(exc: BaseException) -> list[BaseException]:
    """The error, what caused it and SQLAlchemy's wrapped driver error, without loops."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        orig = getattr(item, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None, item.__cause__, item.__context__]
    return seen


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.absolute().is_relative_to(folder.absolute())
    except (OSError, ValueError):
        return False


def _existing(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return folder
