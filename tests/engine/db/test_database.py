"""The same models and migrations on SQLite (WAL, foreign keys) and a real PostgreSQL server."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from studio.engine.db.database import Database, current_revision, head_revision, sqlite_url
from studio.engine.db.models import Influencer, Job, Workspace
from studio.engine.db.repositories import Repository, Workspaces


def test_sqlite_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    db = Database.open(sqlite_url(tmp_path / "s.sqlite3"))
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert current_revision(db.engine) == head_revision()


def _exercise(db: Database) -> None:
    with db.session() as session:
        ws = Workspaces(session).create("Agency")
        repo = Repository(session, ws.id)
        inf = repo.add(Influencer(name="Mia", trigger_word="m1a", topics=["travel", "food"]))
        job = repo.add(Job(type="make-thumbnails", queue="general", payload={"files": ["ä/ö.png"]}))
        inf_id, job_id = inf.id, job.id
    with db.session() as session:
        loaded = session.get(Influencer, inf_id)
        assert loaded is not None and loaded.topics == ["travel", "food"]
        assert loaded.created_at.tzinfo is not None and loaded.created_at <= datetime.now(UTC)
        assert loaded.version == 1
        loaded.tone = "warm"
    with db.session() as session:
        assert session.get(Influencer, inf_id).version == 2  # type: ignore[union-attr]
        assert session.get(Job, job_id).payload == {"files": ["ä/ö.png"]}  # type: ignore[union-attr]
        names = session.scalars(select(Workspace.name)).all()
        assert names == ["Agency"]


def test_models_work_on_sqlite(tmp_path: Path) -> None:
    _exercise(Database.open(sqlite_url(tmp_path / "s.sqlite3")))


def test_models_and_migrations_work_on_postgresql(postgres_url: str) -> None:
    db = Database.open(postgres_url)
    assert db.engine.dialect.name == "postgresql"
    assert current_revision(db.engine) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"workspaces", "influencers", "datasets", "dataset_images", "lora_models", "jobs",
            "assets", "content_plans", "plan_items", "workers"} <= tables
    _exercise(db)
    db.dispose()


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError
    db = Database.open(sqlite_url(tmp_path / "s.sqlite3"))
    import uuid
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Influencer(name="orphan", workspace_id=uuid.uuid4()))
