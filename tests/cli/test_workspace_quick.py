"""`workspace list` read straight from a solo studio's SQLite file (db/quick_read.py) prints
exactly what the full way prints, and leaves every other case to the full way: no database yet,
a migration due, a damaged or locked file, damaged settings, a team server."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.engine.core import Studio
from studio.engine.db import quick_read
from studio.engine.db.database import Database, files_head, migrate, sqlite_url
from studio.engine.db.models import Workspace
from studio.engine.db.quick_read import read_rows, solo_profile, solo_workspaces
from tests.cli.conftest import Cli, Result, one_error_line


def _full_way_refused(data_dir: object) -> Studio:
    raise AssertionError("the quick way opened the whole studio")


def both_ways(cli: Cli, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Result, Result]:
    """The same command answered the quick way (the studio cannot be opened) and the full way
    (the quick way finds no solo profile)."""
    with monkeypatch.context() as patch:
        patch.setattr("studio.engine.core.Studio.open", _full_way_refused)
        quick = cli(*args)
    with monkeypatch.context() as patch:
        patch.setattr("studio.engine.db.quick_read.solo_profile", lambda data_dir: None)
        full = cli(*args)
    return quick, full


def _database_ready(studio: Studio) -> None:
    """The database made and migrated, as the first full command leaves it."""
    studio.workspaces()
    studio.close()


def test_quick_list_prints_what_the_full_list_prints(cli: Cli, studio: Studio,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _database_ready(studio)
    empty, empty_full = both_ways(cli, monkeypatch, "workspace", "list")
    assert empty == empty_full and empty.out.startswith("(no workspaces yet")
    for name in ("beta", "Alpha", "Zed \x1b[31mred", "Gamma"):
        assert cli("workspace", "create", name).code == 0
    for args in (("workspace", "list"), ("workspace", "list", "--json")):
        quick, full = both_ways(cli, monkeypatch, *args)
        assert quick == full and quick.code == 0 and quick.err == ""
    rows = quick.json()
    assert [r["name"] for r in rows] == ["Alpha", "Gamma", "Zed \x1b[31mred", "beta"]  # SQLite's order
    assert [r["current"] for r in rows] == [True, False, False, False]  # none chosen: the first
    assert "\\x1b[31m" in both_ways(cli, monkeypatch, "workspace", "list")[0].out  # escaped


def test_quick_list_marks_the_chosen_workspace_as_the_full_list_does(
        cli: Cli, studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("Alpha", "Beta"):
        cli("workspace", "create", name)
    cli("workspace", "use", "Beta")
    quick, full = both_ways(cli, monkeypatch, "workspace", "list")
    assert quick == full
    assert [line.split()[:2] for line in quick.out.splitlines()[1:]] == [["Alpha", _id(cli, "Alpha")],
                                                                         ["*", "Beta"]]
    cli("workspace", "rename", "Beta", "Gone")
    studio.reload_settings()
    studio.settings.general.current_workspace = "Nowhere"  # a name no workspace has
    studio.save_settings()
    quick, full = both_ways(cli, monkeypatch, "workspace", "list", "--json")
    assert quick == full
    assert [(r["name"], r["current"]) for r in quick.json()] == [("Alpha", True), ("Gone", False)]


def _id(cli: Cli, name: str) -> str:
    return next(r["id"] for r in cli("workspace", "list", "--json").json() if r["name"] == name)


def test_trashed_content_leaves_the_list_alone(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Workspaces themselves never go to the trash, so the quick query needs no deleted_at filter;
    # should they ever become trashable, this fails and the query must learn to skip them.
    assert "deleted_at" not in Workspace.__table__.columns
    cli("workspace", "create", "Main")
    cli("influencer", "create", "Nova")
    assert cli("influencer", "delete", "Nova").code == 0
    assert [i["name"] for i in cli("trash", "list", "--json").json()] == ["Nova"]
    quick, full = both_ways(cli, monkeypatch, "workspace", "list", "--json")
    assert quick == full and [r["name"] for r in quick.json()] == ["Main"]


def _without_database(studio: Studio) -> None:
    """The profile as a first start leaves it: the fixture's starts from a migrated copy."""
    studio.paths.database_file.unlink()


def test_no_database_yet_goes_the_full_way(cli: Cli, studio: Studio) -> None:
    _without_database(studio)
    assert solo_profile(studio.paths.data_dir) is None
    result = cli("workspace", "list")
    assert result.code == 0 and result.out.startswith("(no workspaces yet")
    assert studio.paths.database_file.stat().st_size > 0  # the full way made it


def test_a_migration_due_goes_the_full_way(cli: Cli, studio: Studio) -> None:
    _without_database(studio)
    engine = Database.open(sqlite_url(studio.paths.database_file), upgrade=False).engine
    migrate(engine, revision="0009")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO workspaces (id, name, description, created_at, updated_at, version) "
            "VALUES ('0123456789abcdef0123456789abcdef', 'Old', '', '2026-01-02 03:04:05.000000', "
            "'2026-01-02 03:04:05.000000', 1)")
    engine.dispose()
    profile = solo_profile(studio.paths.data_dir)
    assert profile is not None and solo_workspaces(profile) is None  # an older schema: not read
    rows = cli("workspace", "list", "--json").json()
    assert [(r["name"], r["created_at"]) for r in rows] == [("Old", "2026-01-02T03:04:05+00:00")]
    assert read_rows(profile.paths, "SELECT version_num FROM alembic_version") == [(files_head(),)]


def test_a_damaged_database_is_reported_the_full_way(cli: Cli, studio: Studio) -> None:
    _database_ready(studio)
    for suffix in ("-wal", "-shm"):
        studio.paths.database_file.with_name(f"studio.sqlite3{suffix}").unlink(missing_ok=True)
    studio.paths.database_file.write_bytes(b"this is no database, only words" * 200)
    result = cli("workspace", "list")
    assert result.code == 1 and "is damaged" in one_error_line(result.err)


def test_a_locked_database_is_not_read_the_quick_way(cli: Cli, studio: Studio,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _database_ready(studio)
    cli("workspace", "create", "Main")
    profile = solo_profile(studio.paths.data_dir)
    assert profile is not None and solo_workspaces(profile) is not None
    monkeypatch.setattr(quick_read, "BUSY_TIMEOUT_S", 0.0)
    holder = sqlite3.connect(studio.paths.database_file, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # WAL readers are shut out too
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE workspaces SET description = 'held'")
        assert solo_workspaces(profile) is None
    finally:
        holder.close()
    listing = solo_workspaces(profile)
    assert listing is not None and [w.name for w in listing.workspaces] == ["Main"]


def test_damaged_settings_go_the_full_way_which_warns(cli: Cli, studio: Studio) -> None:
    cli("workspace", "create", "Main")
    studio.paths.settings_file.write_text("[general\ncurrent_workspace = ", encoding="utf-8")
    assert solo_profile(studio.paths.data_dir) is None
    result = cli("workspace", "list")
    assert result.code == 0 and "Main" in result.out
    assert "warning: The settings file" in result.err and "is damaged" in result.err


def test_a_team_server_goes_the_full_way(cli: Cli, studio: Studio, postgres_url: str) -> None:
    _without_database(studio)
    studio.settings.database.url = postgres_url
    studio.save_settings()
    assert solo_profile(studio.paths.data_dir) is None
    assert cli("workspace", "create", "Team").code == 0
    assert [r["name"] for r in cli("workspace", "list", "--json").json()] == ["Team"]
    assert not studio.paths.database_file.exists()  # the solo file was never made nor read


def test_the_quick_way_leaves_no_files_behind(cli: Cli, studio: Studio,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _database_ready(studio)
    cli("workspace", "create", "Main")
    before = sorted(p.name for p in studio.paths.data_dir.iterdir())
    quick, _ = both_ways(cli, monkeypatch, "workspace", "list")
    assert quick.code == 0 and sorted(p.name for p in studio.paths.data_dir.iterdir()) == before
    assert not Path(f"{studio.paths.database_file}-wal").exists()  # closed as tidily as SQLAlchemy


def test_the_quick_way_still_redacts_shaped_and_environment_secrets(
        cli: Cli, studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    shaped = "sk-" + "a1" * 12  # made here: no key-shaped text in the sources
    from_env = "Moon" + "river" * 2
    monkeypatch.setenv("INFLUENCERAI_SECRET_OPENROUTER", from_env)
    for name in (shaped, from_env, "Plain"):
        assert cli("workspace", "create", name).code == 0
    for args in (("workspace", "list"), ("workspace", "list", "--json")):
        quick, full = both_ways(cli, monkeypatch, *args)
        assert quick == full
        assert shaped not in quick.out and from_env not in quick.out and "Plain" in quick.out
    assert sorted(r["name"] for r in quick.json()) == ["***", "***", "Plain"]
