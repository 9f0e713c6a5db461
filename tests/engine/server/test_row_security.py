"""Row-level security: a workspace's own PostgreSQL role cannot reach another workspace's rows,
neither through the repositories nor with hand-written SQL."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from studio.engine.db.database import Database
from studio.engine.db.models import Influencer, Job
from studio.engine.db.repositories import Repository, Workspaces
from studio.engine.errors import InvalidInput, NotFound
from studio.engine.server.roles import drop_workspace_role, grant_workspace_role, workspace_role
from studio.engine.urls import with_password, with_user

PASSWORD = "a-long-enough-password"


@pytest.fixture
def two_workspaces(postgres_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    db = Database.open(postgres_url)  # as the team role that owns the tables
    try:
        with db.session() as session:
            a = Workspaces(session).create("Alpha")
            b = Workspaces(session).create("Beta")
            for ws, name in ((a, "Mia"), (b, "Zed")):
                repo = Repository(session, ws.id)
                repo.add(Influencer(name=name, trigger_word=name.lower()))
                repo.add(Job(type="make-thumbnails", queue="general", payload={}, title=f"{name} job"))
        return a.id, b.id
    finally:
        db.dispose()


def role_url(postgres_url: str, workspace_id: uuid.UUID) -> str:
    return with_password(with_user(postgres_url, workspace_role(workspace_id)), PASSWORD)


def test_every_workspace_table_has_the_policy(postgres_url: str, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(postgres_url) as conn:
        scoped = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'workspace_id'").fetchall()}
        secured = {r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relnamespace = 'public'::regnamespace")}
    assert scoped and scoped | {"workspaces"} <= secured


def test_raw_sql_under_a_workspace_role_sees_and_changes_only_its_own_rows(
        postgres_url: str, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workspaces
    assert grant_workspace_role(postgres_url, a, PASSWORD) == workspace_role(a)
    with psycopg.connect(role_url(postgres_url, a), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == workspace_role(a)
        assert [r[0] for r in conn.execute("SELECT name FROM workspaces")] == ["Alpha"]
        assert [r[0] for r in conn.execute("SELECT name FROM influencers")] == ["Mia"]
        assert conn.execute("SELECT count(*) FROM influencers WHERE workspace_id = %s",
                            (b,)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM jobs WHERE workspace_id = %s", (b,)).fetchone()[0] == 0
        assert conn.execute("UPDATE influencers SET name = 'taken' WHERE workspace_id = %s",
                            (b,)).rowcount == 0
        assert conn.execute("DELETE FROM jobs WHERE workspace_id = %s", (b,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # WITH CHECK refuses it
            conn.execute("INSERT INTO influencers (id, workspace_id, name, trigger_word, tone, style, "
                         "voice, topics, language, notes, created_at, updated_at, version) VALUES "
                         "(%s, %s, 'Intruder', '', '', '', '', '[]', 'en', '', now(), now(), 1)",
                         (uuid.uuid4(), b))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # moving a row out is refused too
            conn.execute("UPDATE influencers SET workspace_id = %s", (b,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE influencers DISABLE ROW LEVEL SECURITY")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET ROLE postgres")
    with psycopg.connect(postgres_url) as conn:  # the other workspace's rows are as they were
        assert conn.execute("SELECT name FROM influencers WHERE workspace_id = %s", (b,)).fetchone()[0] == "Zed"
        assert conn.execute("SELECT count(*) FROM jobs WHERE workspace_id = %s", (b,)).fetchone()[0] == 1


def test_the_studio_runs_under_a_workspace_role_and_the_repositories_answer_not_found(
        postgres_url: str, two_workspaces) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workspaces
    grant_workspace_role(postgres_url, a, PASSWORD)
    db = Database.open(role_url(postgres_url, a))  # at head already: nothing to migrate
    try:
        with db.session() as session:
            assert [w.name for w in Workspaces(session).list()] == ["Alpha"]
            with pytest.raises(NotFound):
                Workspaces(session).get(b)
            mine = Repository(session, a)
            mine.add(Influencer(name="Ana"))
            assert sorted(i.name for i in mine.list(Influencer)) == ["Ana", "Mia"]
            # Even a repository pointed at the other workspace finds nothing there.
            assert Repository(session, b).list(Influencer) == []
    finally:
        db.dispose()
    drop_workspace_role(postgres_url, a)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(role_url(postgres_url, a), connect_timeout=5).close()


def test_a_short_password_is_refused(postgres_url: str) -> None:
    with pytest.raises(InvalidInput):
        grant_workspace_role(postgres_url, uuid.uuid4(), "short")


def test_a_workspace_table_added_by_a_later_migration_is_covered_too(postgres_url: str) -> None:
    from studio.engine.db.database import make_engine, migrate
    engine = make_engine(postgres_url)
    try:
        migrate(engine, revision="0005")
        with psycopg.connect(postgres_url, autocommit=True) as conn:  # as a later migration would
            conn.execute("CREATE TABLE later_notes (id uuid PRIMARY KEY, workspace_id uuid NOT NULL)")
        migrate(engine)  # the next upgrade
        with psycopg.connect(postgres_url) as conn:
            secured = conn.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'later_notes'")
            assert secured.fetchone()[0] is True
            assert conn.execute("SELECT count(*) FROM pg_policies WHERE tablename = 'later_notes'").fetchone()[0] == 1
    finally:
        engine.dispose()
