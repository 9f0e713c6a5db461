"""Read-only folders and full disks as one plain line: errors the OS and SQLite really raise
(a read-only SQLite connection, SQLite's page limit), and OSErrors built as the OS gives them."""
from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import sessionmaker

from studio.engine.db.database import Database, sqlite_url
from studio.engine.disk_errors import disk_error
from studio.engine.errors import DiskError


def test_a_full_disk_names_the_data_folder_and_the_space_left(tmp_path: Path) -> None:
    exc = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "assets" / "x.png"))
    free = shutil.disk_usage(tmp_path).free // (1024 * 1024)
    assert str(disk_error(exc, tmp_path)) == (f"The disk holding {tmp_path} is full: {free} MB free. "
                                              "Free some space and try again.")


def test_a_read_only_folder_inside_and_outside_the_data_folder(tmp_path: Path) -> None:
    inside = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "logs" / "cli.jsonl"))
    assert str(disk_error(inside, tmp_path)).startswith(f"The data folder {tmp_path} is read-only:")
    outside = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out" / "a.mp4"))
    (tmp_path / "out").mkdir()
    assert str(disk_error(outside, tmp_path / "data")).startswith(f"The folder {tmp_path / 'out'} is read-only")
    denied = OSError(errno.EACCES, "Permission denied", "/srv/pictures/a.png")
    assert str(disk_error(denied, tmp_path)) == "The studio may not use /srv/pictures/a.png (permission denied)."


def test_what_is_not_about_the_disk_is_left_alone(tmp_path: Path) -> None:
    assert disk_error(OSError(errno.EPERM, "Operation not permitted"), tmp_path) is None  # os.kill
    assert disk_error(OSError(errno.EIO, "Input/output error", str(tmp_path)), tmp_path) is None
    assert disk_error(ValueError("database or disk"), tmp_path) is None


def test_the_cause_is_found_behind_a_wrapper(tmp_path: Path) -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("export failed") from inner
    except RuntimeError as outer:
        assert str(disk_error(outer, tmp_path)).startswith(f"The disk holding {tmp_path} is full")


def test_sqlite_read_only_is_the_data_folder_read_only(tmp_path: Path) -> None:
    file = tmp_path / "studio.sqlite3"
    Database.open(sqlite_url(file)).dispose()
    engine = create_engine(f"sqlite+pysqlite:///file:{file}?mode=ro&uri=true")
    db = Database(engine=engine, sessions=sessionmaker(engine))
    with pytest.raises(DiskError) as err, db.session() as session:
        session.execute(text("INSERT INTO workspaces (id, name, created_at, updated_at, version) "
                             "VALUES (x'00', 'A', '2024-01-01', '2024-01-01', 1)"))
    assert str(err.value).startswith(f"The data folder {tmp_path} is read-only")
    assert "readonly database" in str(err.value.__cause__)  # SQLite's own error, not a made-up one
    db.dispose()


def test_sqlite_full_is_the_disk_full(tmp_path: Path) -> None:
    db = Database.open(sqlite_url(tmp_path / "studio.sqlite3"))

    @event.listens_for(db.engine, "connect")
    def _no_room(connection: object, _record: object) -> None:  # SQLite's limit: a disk that is full
        pages = connection.execute("PRAGMA page_count").fetchone()[0]  # type: ignore[attr-defined]
        connection.execute(f"PRAGMA max_page_count = {pages + 1}")  # type: ignore[attr-defined]

    db.engine.dispose()  # connections from now on have the limit
    with pytest.raises(DiskError) as err, db.session() as session:
        session.execute(text("CREATE TABLE filler (blob BLOB)"))
        for _ in range(50):
            session.execute(text("INSERT INTO filler VALUES (zeroblob(100000))"))
    assert str(err.value).startswith(f"The disk holding {tmp_path} is full: ")
    assert "database or disk is full" in str(err.value.__cause__)
    db.dispose()
