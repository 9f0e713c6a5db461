"""A damaged, emptied or newer database, found on real SQLite files: refused in plain words at
open, and described by the doctor with what to do."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db.database import head_revision
from studio.engine.doctor_database import check_database
from studio.engine.errors import DatabaseProblem
from tests.engine.db.damage import corrupt_an_index, make_newer


def test_a_file_that_is_not_a_database_is_refused_as_damaged(studio: Studio) -> None:
    studio.paths.database_file.write_bytes(b"this is not a database, just text " * 200)
    with pytest.raises(DatabaseProblem) as err:
        studio.workspace()
    message = str(err.value)
    assert message.startswith(f"The database {studio.paths.database_file} is damaged (file is not a database).")
    assert "Restore studio.sqlite3 from a backup" in message and "\n" not in message
    status, detail, fix = check_database(studio)
    assert status == "problem" and "is damaged: file is not a database" in detail
    assert fix.startswith("Restore studio.sqlite3 from a backup")


def test_doctor_runs_quick_check_and_names_the_damage(studio: Studio) -> None:
    studio.workspace()  # a real studio database
    studio.close()
    corrupt_an_index(studio.paths.database_file)
    status, detail, fix = check_database(studio)
    assert status == "problem" and "is damaged: quick_check says " in detail, detail
    assert "\n" not in detail and "out of range" in detail
    assert "Restore studio.sqlite3 from a backup" in fix


def test_a_sound_database_passes_quick_check(studio: Studio) -> None:
    studio.workspace()
    status, detail, _fix = check_database(studio)
    assert status == "ok" and detail.endswith(f"schema {head_revision()} (up to date), quick_check ok")


def test_a_zero_byte_database_beside_assets_is_not_opened_as_a_new_studio(data_dir: Path) -> None:
    first = Studio.open(data_dir)
    first.workspace()
    first.close()
    (first.paths.assets_dir / "datasets" / "w").mkdir(parents=True)
    (first.paths.assets_dir / "datasets" / "w" / "a.png").write_bytes(b"png")
    first.paths.database_file.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        first.paths.database_file.with_name(f"studio.sqlite3{suffix}").unlink(missing_ok=True)
    again = Studio.open(data_dir)
    with pytest.raises(DatabaseProblem) as err:
        again.workspace()
    assert str(err.value).startswith(f"The database {again.paths.database_file} is empty (0 bytes) but "
                                     f"the assets folder {again.paths.assets_dir} holds 1 files")
    assert again.paths.database_file.stat().st_size == 0  # nothing was created over it
    status, detail, fix = check_database(again)
    assert status == "problem" and "is empty (0 bytes)" in detail and "backup" in fix
    again.close()


def test_a_zero_byte_database_without_assets_starts_a_studio(studio: Studio) -> None:
    studio.paths.database_file.write_bytes(b"")
    assert studio.workspace().name  # nothing to lose: a new studio, as on first start


def test_a_database_from_a_newer_studio_names_its_revision(studio: Studio) -> None:
    studio.workspace()
    studio.close()
    make_newer(studio.paths.database_file, "0042_from_the_future")
    again = Studio.open(studio.paths.data_dir)
    with pytest.raises(DatabaseProblem) as err:
        again.workspace()
    assert str(err.value) == (f"The database {again.paths.database_file} was made by a newer version of "
                              "the studio (revision 0042_from_the_future); update the studio to open it.")
    status, detail, fix = check_database(again)
    assert status == "problem" and "made by a newer version of the studio (revision 0042_from_the_future)" in detail
    assert fix.startswith("Update the studio")
    with sqlite3.connect(again.paths.database_file) as db:  # left as it was: nothing downgraded
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0042_from_the_future",)
    again.close()
