"""Whether the studio's database can be trusted: damaged, empty where records should be, or
made by a newer studio. Each finding is one plain line that says what to do."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError

from studio.engine.disk_errors import disk_error, free_mb, full_disk_message
from studio.engine.errors import DatabaseProblem, DiskError, StudioError

if TYPE_CHECKING:  # opening a database at its newest migration needs no Alembic
    from alembic.script import ScriptDirectory

RESTORE = ("Restore studio.sqlite3 from a backup with the studio and its worker closed, or move it "
           "aside to start an empty studio.")
DAMAGED_WORDS = ("file is not a database", "database disk image is malformed", "malformed")
QUICK_CHECK_LINES = 20
COUNT_LIMIT = 10_000
LOW_MB = 2  # an I/O error with less free than this is the disk being full
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL: a grant, a row-level security policy, a trigger


def where(engine: Engine) -> str:
    """The database as a user knows it: its file, or its URL without the password."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database))
    return url.render_as_string(hide_password=True)


def sqlite_folder(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database:
        return None
    return Path(database.removeprefix("file:")).absolute().parent  # a URI filename too


def database_problem(exc: BaseException, engine: Engine) -> StudioError | None:
    """The plain error a failed database call stands for: a read-only or full disk, a damaged
    file. None for anything else (a lock, a lost server), which callers treat as before."""
    folder = sqlite_folder(engine)
    disk = disk_error(exc, folder)
    if disk is not None:
        return disk
    if folder is not None and "disk i/o error" in str(exc).lower() and free_mb(folder) < LOW_MB:
        return DiskError(full_disk_message(folder))  # SQLite's word when the log cannot grow
    if isinstance(exc, DatabaseError) and any(w in str(exc.orig or exc) for w in DAMAGED_WORDS):
        return DatabaseProblem(damaged_message(where(engine), error_line(exc)))
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
        return StudioError(f"The team server does not allow this to the database role this studio "
                           f"connects with ({error_line(exc)}).")
    return None


def damaged_message(place: str, detail: str) -> str:
    return (f"The database {place} is damaged ({detail}). {RESTORE} "
            "`influencerai-studio doctor` checks it.")


def newer_words(revision: str) -> str:
    return f"made by a newer version of the studio (revision {revision})"


def too_new_message(place: str, revision: str) -> str:
    return f"The database {place} was {newer_words(revision)}; update the studio to open it."


def known_revisions(script: ScriptDirectory) -> set[str]:
    return {rev.revision for rev in script.walk_revisions()}


def quick_check(engine: Engine) -> list[str]:
    """SQLite's own consistency check; the problems it lists, none when the file is sound."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(f"PRAGMA quick_check({QUICK_CHECK_LINES})").scalars().all()
    lines = [line.strip() for row in rows for line in str(row).splitlines()]
    return [line for line in lines if line and line != "ok" and not line.startswith("***")]


def empty_over_assets(database_file: Path, assets_dir: Path) -> int | None:
    """How many asset files sit beside a zero-byte database, None when that is not the case.
    Such a database lost its records: opening it would make a new empty studio that hides them."""
    try:
        if database_file.stat().st_size > 0:
            return None
    except FileNotFoundError:
        return None
    wal = database_file.with_name(database_file.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:  # SQLite can still read its pages from the log
        return None
    return count_files(assets_dir) or None


def empty_words(database_file: Path, assets_dir: Path, count: int) -> str:
    shown = f"{count}+" if count >= COUNT_LIMIT else str(count)
    return (f"The database {database_file} is empty (0 bytes) but the assets folder {assets_dir} "
            f"holds {shown} files")


def empty_message(database_file: Path, assets_dir: Path, count: int) -> str:
    return (f"{empty_words(database_file, assets_dir, count)}: the studio's records were lost, so it "
            f"will not start a new empty studio over them. {RESTORE}")


def count_files(folder: Path, limit: int = COUNT_LIMIT) -> int:
    count = 0
    for _root, _dirs, files in os.walk(folder):
        count += len(files)
        if count >= limit:
            return limit
    return count


def error_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
