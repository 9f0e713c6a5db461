"""A job's error, message and result never store a secret, whichever way the row is written, on
SQLite and on the team's PostgreSQL; the payload keeps the addresses its job must reach."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text, update

from studio.engine.db.database import Database, sqlite_url
from studio.engine.db.models import Job, Workspace

KEY = "-".join(("sk", "or", "v1", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"))  # made here: no key-shaped text is committed


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = sqlite_url(tmp_path / "studio.sqlite3") if request.param == "sqlite" \
        else request.getfixturevalue("postgres_url")
    database = Database.open(url)
    yield database
    database.dispose()


def _stored(db: Database) -> str:
    with db.session() as session:
        row = session.execute(text("SELECT error, message, result, payload FROM jobs")).one()
    return " ".join(str(value) for value in row)


def test_orm_writes_are_redacted(db: Database) -> None:
    with db.session() as session:
        workspace = Workspace(name="Team")
        session.add(workspace)
        session.flush()
        session.add(Job(workspace_id=workspace.id, type="plan", queue="generation",
                        payload={"comfyui_url": "http://me:comfy-pw-77@gpu:8188", "api_key": KEY},
                        error=f"OpenRouter refused the request (HTTP 401): Incorrect key {KEY}.",
                        message="retrying with Authorization: Bearer abcd1234efgh5678",
                        result={"echo": {"headers": {"Authorization": f"Bearer {KEY}"}},
                                "url": "postgresql://team:Tr0ub4dor3@db/studio"}))
    stored = _stored(db)
    for secret in (KEY, "abcd1234efgh5678", "Tr0ub4dor3"):
        assert secret not in stored
    assert "Incorrect key ***" in stored and "team:***@db" in stored
    assert "me:comfy-pw-77@gpu" in stored  # the payload's own address still works


def test_core_updates_are_redacted_too(db: Database) -> None:
    """Progress messages are written with UPDATE statements, not through ORM objects."""
    with db.session() as session:
        workspace = Workspace(name="Team")
        session.add(workspace)
        session.flush()
        job = Job(workspace_id=workspace.id, type="plan", queue="generation")
        session.add(job)
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job.id).values(
            message=f"server said: invalid key {KEY}", error=f"x-api-key: {KEY}"))
    stored = _stored(db)
    assert KEY not in stored and "invalid key ***" in stored
    with db.session() as session:  # a job without a result keeps SQL NULL, as before
        assert session.execute(text("SELECT result IS NULL FROM jobs")).scalar_one()
