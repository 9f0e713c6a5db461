"""A database made by an older version upgrades in place, keeping its rows."""
from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import inspect, text

from studio.engine.core import Studio
from studio.engine.db.database import (
    current_revision,
    files_head,
    head_revision,
    make_engine,
    migrate,
    sqlite_url,
)


def _old_database(path: Path) -> tuple[str, str]:
    """A database at revision 0001 (before worker heartbeats), with a workspace and a job in it."""
    engine = make_engine(sqlite_url(path))
    migrate(engine, revision="0001")
    assert "workers" not in inspect(engine).get_table_names()
    ws_id, job_id = uuid.uuid4().hex, uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, name, description, created_at, updated_at, version) "
                          "VALUES (:id, 'Old', '', '2025-01-01 00:00:00', '2025-01-01 00:00:00', 1)"),
                     {"id": ws_id})
        conn.execute(text(
            "INSERT INTO jobs (id, workspace_id, type, queue, status, priority, title, payload, progress, "
            "stage, message, error, cost_usd, attempts, max_attempts, cancel_requested, created_at, "
            "updated_at, version) VALUES (:id, :ws, 'make-thumbnails', 'general', 'completed', 0, 'old job', "
            "'{}', 1.0, '', 'Done.', '', 0.0, 1, 4, 0, '2025-01-01 00:00:00', '2025-01-01 00:00:00', 1)"),
            {"id": job_id, "ws": ws_id})
    engine.dispose()
    return ws_id, job_id


def test_older_database_upgrades_in_place_on_start(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    ws_id, job_id = _old_database(data_dir / "studio.sqlite3")
    studio = Studio.open(data_dir)  # opening the studio runs the migrations
    try:
        assert current_revision(studio.db.engine) == head_revision()
        assert "workers" in inspect(studio.db.engine).get_table_names()
        workspace = studio.workspace("Old")
        assert workspace.id == uuid.UUID(ws_id)
        job = studio.jobs.get(workspace.id, job_id)
        assert job.title == "old job" and job.worker_id is None and job.status == "completed"
    finally:
        studio.close()


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "s.sqlite3"))
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()


def test_the_head_read_from_file_names_is_alembics_head() -> None:
    # Opening a database compares its revision with this, without loading Alembic.
    assert files_head() == head_revision()


def test_a_database_one_step_behind_still_upgrades(tmp_path: Path) -> None:
    # The quick check on opening (the revision against the newest file) must not skip this.
    engine = make_engine(sqlite_url(tmp_path / "s.sqlite3"))
    migrate(engine, revision="0009")
    assert "owner_role" not in {c["name"] for c in inspect(engine).get_columns("workers")}
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert "owner_role" in {c["name"] for c in inspect(engine).get_columns("workers")}


def test_dataset_rows_survive_the_curation_upgrade(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "s.sqlite3"))
    migrate(engine, revision="0002")
    ids = {k: uuid.uuid4().hex for k in ("ws", "inf", "ds", "img")}
    stamp = "'2025-01-01 00:00:00', '2025-01-01 00:00:00', 1"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO workspaces VALUES ('Old', '', :ws, {stamp})"), ids)
        conn.execute(text("INSERT INTO influencers (id, workspace_id, name, trigger_word, tone, style, voice, "
                          "topics, language, notes, created_at, updated_at, version) VALUES (:inf, :ws, 'Mia', "
                          f"'m1a', '', '', '', '[]', 'en', '', {stamp})"), ids)
        conn.execute(text("INSERT INTO datasets (id, workspace_id, influencer_id, name, description, created_at, "
                          f"updated_at, version) VALUES (:ds, :ws, :inf, 'Faces', '', {stamp})"), ids)
        conn.execute(text(
            "INSERT INTO dataset_images (id, workspace_id, dataset_id, storage_key, original_name, sha256, "
            "width, height, quality, faces, caption, tags, excluded, created_at, updated_at, version) VALUES "
            f"(:img, :ws, :ds, 'k', 'a.jpg', 'abc', 10, 10, '{{}}', '[]', 'm1a, smile', '[]', 0, {stamp})"), ids)
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT caption, source_name, crop_manual, size_bytes FROM dataset_images")).one()
        assert tuple(row) == ("m1a, smile", "", 0, 0)
        assert conn.execute(text("SELECT repeats, tag_separator FROM datasets")).one() == (10, ",")


def test_migrations_build_exactly_the_models_schema(tmp_path: Path, postgres_url: str) -> None:
    """A model change without its migration fails here, on SQLite and on PostgreSQL."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from studio.engine.db.models import Base
    for url in (sqlite_url(tmp_path / "s.sqlite3"), postgres_url):
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        engine.dispose()


def _workspace_references() -> set[tuple[str, str]]:
    """Every (table, column) where one workspace table names a row of another (migration 0010)."""
    from studio.engine.db.models import Base
    refs = set()
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            parent = fk.column.table
            if "workspace_id" in table.c and "workspace_id" in parent.c:
                refs.add((table.name, fk.parent.name))
    return refs


def test_every_reference_between_workspace_tables_stays_inside_one_workspace(tmp_path: Path) -> None:
    """Guards later migrations too: a SQLite table rebuilt by a batch operation loses its triggers."""
    engine = make_engine(sqlite_url(tmp_path / "s.sqlite3"))
    migrate(engine)
    with engine.connect() as conn:
        triggers = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
    engine.dispose()
    refs = _workspace_references()
    assert ("datasets", "influencer_id") in refs
    for table, column in refs:
        for when in ("insert", "update"):
            assert f"same_workspace_{table}_{column}_{when}" in triggers


def test_a_dataset_naming_another_workspace_influencer_is_refused_on_sqlite(data_dir: Path) -> None:
    import pytest

    from studio.engine.db.models import Dataset, Influencer
    from studio.engine.db.repositories import Repository, Workspaces
    from studio.engine.errors import InvalidInput
    studio = Studio.open(data_dir)
    try:
        with studio.db.session() as session:
            a, b = Workspaces(session).create("A"), Workspaces(session).create("B")
            theirs = Repository(session, b.id).add(Influencer(name="Zed"))
            mine = Repository(session, a.id).add(Influencer(name="Mia"))
            dataset = Repository(session, a.id).add(Dataset(influencer_id=mine.id, name="Faces"))
            a_id, dataset_id, theirs_id = a.id, dataset.id, theirs.id
        with pytest.raises(InvalidInput, match="does not exist"), studio.db.session() as session:
            Repository(session, a_id).add(Dataset(influencer_id=theirs_id, name="Stolen"))
        with pytest.raises(InvalidInput, match="does not exist"), studio.db.session() as session:
            repo = Repository(session, a_id)
            repo.update(repo.get(Dataset, dataset_id), influencer_id=theirs_id)
        with studio.db.session() as session:
            assert Repository(session, a_id).get(Dataset, dataset_id).influencer_id == mine.id
    finally:
        studio.close()


def test_revision_0010_goes_down_and_up_again(tmp_path: Path, postgres_url: str) -> None:
    from alembic import command

    from studio.engine.db.database import alembic_config
    for url in (sqlite_url(tmp_path / "s.sqlite3"), postgres_url):
        engine = make_engine(url)
        migrate(engine)
        with engine.begin() as conn:
            config = alembic_config(engine)
            config.attributes["connection"] = conn
            command.downgrade(config, "0009")
        with engine.connect() as conn:
            assert "owner_role" not in {c["name"] for c in inspect(conn).get_columns("workers")}
        migrate(engine)
        assert current_revision(engine) == head_revision()
        engine.dispose()
