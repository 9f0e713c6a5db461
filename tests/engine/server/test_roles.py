"""``server grant``/``revoke`` under a CREATEROLE-only team role, with password authentication on,
and what a workspace role may write once granted (migration 0010)."""
from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from studio.engine.datasets.captions import write_captions
from studio.engine.db.database import Database
from studio.engine.db.models import CaptionChange, Dataset, DatasetImage, Influencer, WorkerRecord
from studio.engine.db.repositories import Repository, Workspaces
from studio.engine.errors import Conflict, InvalidInput, StudioError
from studio.engine.server.roles import drop_workspace_role, grant_workspace_role, workspace_role
from studio.engine.urls import with_password, with_user

PASSWORD = "ws-password-" + uuid.uuid4().hex[:8]


@pytest.fixture
def team_url(postgres_url: str) -> str:
    """The database owned by a team role with CREATEROLE and no superuser, migrated by it."""
    team, team_password = f"team_{uuid.uuid4().hex[:8]}", "team-" + uuid.uuid4().hex
    dbname = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {team} LOGIN CREATEROLE NOSUPERUSER PASSWORD '{team_password}'")
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO {team}')
        conn.execute(f"ALTER SCHEMA public OWNER TO {team}")
    url = with_password(with_user(postgres_url, team), team_password)
    Database.open(url).dispose()  # the team role runs the migrations and owns the tables
    return url


@pytest.fixture
def two_workspaces(team_url: str) -> dict[str, uuid.UUID]:
    """Alpha and Beta, each with an influencer, a dataset and one image."""
    db = Database.open(team_url)
    ids: dict[str, uuid.UUID] = {}
    try:
        with db.session() as session:
            for name in ("Alpha", "Beta"):
                ws = Workspaces(session).create(name)
                repo = Repository(session, ws.id)
                influencer = repo.add(Influencer(name=f"{name} face"))
                dataset = repo.add(Dataset(influencer_id=influencer.id, name="Faces"))
                image = repo.add(DatasetImage(dataset_id=dataset.id, storage_key="k", sha256=name,
                                              caption="before"))
                ids |= {name: ws.id, f"{name}.influencer": influencer.id,
                        f"{name}.dataset": dataset.id, f"{name}.image": image.id}
            session.add(WorkerRecord(id="gpu-box:1", host="gpu-box", pid=1))
    finally:
        db.dispose()
    return ids


def role_url(team_url: str, workspace_id: uuid.UUID, password: str = PASSWORD) -> str:
    return with_password(with_user(team_url, workspace_role(workspace_id)), password)


def test_a_createrole_team_role_grants_and_revoke_ends_open_sessions(
        team_url: str, two_workspaces: dict[str, uuid.UUID]) -> None:
    alpha = two_workspaces["Alpha"]
    with psycopg.connect(team_url) as conn:
        assert conn.execute("SELECT rolsuper, rolcreaterole FROM pg_roles "
                            "WHERE rolname = current_user").fetchone() == (False, True)
    grant_workspace_role(team_url, alpha, PASSWORD)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(role_url(team_url, alpha, "not-the-password"), connect_timeout=5)
    session = psycopg.connect(role_url(team_url, alpha), autocommit=True)
    assert [r[0] for r in session.execute("SELECT name FROM workspaces")] == ["Alpha"]
    grant_workspace_role(team_url, alpha, PASSWORD + "-new")  # a second grant changes the password
    assert drop_workspace_role(team_url, alpha) == 1
    with pytest.raises(psycopg.OperationalError):  # the open session was ended, not left running
        session.execute("SELECT name FROM workspaces")
    session.close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(role_url(team_url, alpha, PASSWORD + "-new"), connect_timeout=5)
    with psycopg.connect(team_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s",
                            (workspace_role(alpha),)).fetchone()[0] == 0
    assert drop_workspace_role(team_url, alpha) == 0  # revoking again is harmless


def test_a_failed_grant_never_puts_the_password_in_the_server_log(
        team_url: str, postgres_url: str, postgres_log: Path) -> None:
    doomed = uuid.uuid4()
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # a role the team may not alter
        conn.execute(f"CREATE ROLE {workspace_role(doomed)} SUPERUSER")
    secret = "never-logged-" + uuid.uuid4().hex
    with pytest.raises(StudioError, match="could not be made"):
        grant_workspace_role(team_url, doomed, secret)
    fine = uuid.uuid4()
    grant_workspace_role(team_url, fine, secret + "-ok")
    psycopg.connect(role_url(team_url, fine, secret + "-ok"), connect_timeout=5).close()
    logged = postgres_log.read_text(errors="replace")
    assert "ERROR:  must be superuser to alter superuser roles" in logged
    assert workspace_role(doomed) in logged
    assert f"ALTER ROLE \"{workspace_role(fine)}\" PASSWORD 'SCRAM-SHA-256$4096:" in logged  # a verifier
    assert secret not in logged


def test_a_workspace_role_writes_only_its_own_worker_records(
        team_url: str, two_workspaces: dict[str, uuid.UUID]) -> None:
    alpha = two_workspaces["Alpha"]
    grant_workspace_role(team_url, alpha, PASSWORD)
    db = Database.open(role_url(team_url, alpha))
    try:
        with db.session() as session:  # what a desk's in-process consumer does
            session.add(WorkerRecord(id="desk:7:cli", host="desk", pid=7))
        with db.session() as session:
            mine = session.get(WorkerRecord, "desk:7:cli")
            assert mine is not None and mine.owner_role == workspace_role(alpha)
            mine.heartbeat_at = mine.started_at
            assert {w.id for w in session.scalars(select(WorkerRecord))} == {"gpu-box:1", "desk:7:cli"}
    finally:
        db.dispose()
    with psycopg.connect(role_url(team_url, alpha), autocommit=True) as conn:
        assert conn.execute("UPDATE workers SET stopped_at = now() WHERE id = 'gpu-box:1'").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM workers")
        owner = conn.execute("INSERT INTO workers (id, host, pid, queues, app_version, gpu, started_at, "
                             "heartbeat_at, owner_role) VALUES ('fake', 'h', 1, '[]', '', '', now(), "
                             "now(), (SELECT tableowner FROM pg_tables WHERE tablename = 'workers')) "
                             "RETURNING owner_role").fetchone()[0]
        assert owner == workspace_role(alpha)  # posing as the team's worker gets it nowhere
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE workers SET owner_role = 'someone' WHERE id = 'fake'")
    with psycopg.connect(team_url) as conn:
        assert conn.execute("SELECT stopped_at FROM workers WHERE id = 'gpu-box:1'").fetchone()[0] is None


def test_a_desk_on_a_workspace_role_edits_captions_and_sees_only_its_own_changes(
        team_url: str, two_workspaces: dict[str, uuid.UUID]) -> None:
    alpha = two_workspaces["Alpha"]
    grant_workspace_role(team_url, alpha, PASSWORD)
    db = Database.open(role_url(team_url, alpha))
    try:
        with db.session() as session:
            dataset = Repository(session, alpha).get(Dataset, two_workspaces["Alpha.dataset"])
        assert write_captions(db, dataset, {two_workspaces["Alpha.image"]: "after"}, label="edit") == 1
        with db.session() as session:
            assert [c.after for c in session.scalars(select(CaptionChange))] == ["after"]
    finally:
        db.dispose()
    owner = Database.open(team_url)
    try:
        with owner.session() as session:
            beta = Repository(session, two_workspaces["Beta"]).get(Dataset, two_workspaces["Beta.dataset"])
        write_captions(owner, beta, {two_workspaces["Beta.image"]: "beta's"}, label="edit")
    finally:
        owner.dispose()
    with psycopg.connect(role_url(team_url, alpha), autocommit=True) as conn:
        assert [r[0] for r in conn.execute("SELECT after FROM caption_changes")] == ["after"]
        batch = conn.execute("SELECT batch_id FROM caption_changes").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # a change of Beta's image
            conn.execute("INSERT INTO caption_changes (id, batch_id, image_id, before, after) "
                         "VALUES (%s, %s, %s, '', 'x')", (uuid.uuid4(), batch, two_workspaces["Beta.image"]))


def test_a_dataset_cannot_name_another_workspace_influencer(
        team_url: str, two_workspaces: dict[str, uuid.UUID]) -> None:
    alpha, theirs = two_workspaces["Alpha"], two_workspaces["Beta.influencer"]
    grant_workspace_role(team_url, alpha, PASSWORD)
    insert = ("INSERT INTO datasets (id, workspace_id, influencer_id, name, description, class_token, "
              "repeats, tag_separator, created_at, updated_at, version) "
              "VALUES (%s, %s, %s, 'Stolen', '', '', 10, ',', now(), now(), 1)")
    for url in (role_url(team_url, alpha), team_url):  # the team role is held to it too
        with psycopg.connect(url, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.ForeignKeyViolation) as refused:
                conn.execute(insert, (uuid.uuid4(), alpha, theirs))
            assert "Beta" not in str(refused.value) and str(theirs) not in str(refused.value)
            with pytest.raises(psycopg.errors.ForeignKeyViolation):  # nor be moved there later
                conn.execute("UPDATE datasets SET influencer_id = %s WHERE workspace_id = %s",
                             (theirs, alpha))
    db = Database.open(role_url(team_url, alpha))
    try:
        with db.session() as session, pytest.raises(InvalidInput, match="does not exist"):
            Repository(session, alpha).add(Dataset(influencer_id=theirs, name="Stolen"))
    finally:
        db.dispose()


def test_a_workspace_role_cannot_rename_so_a_taken_name_tells_it_nothing(
        team_url: str, two_workspaces: dict[str, uuid.UUID]) -> None:
    alpha = two_workspaces["Alpha"]
    grant_workspace_role(team_url, alpha, PASSWORD)
    db = Database.open(role_url(team_url, alpha))
    answers = []
    try:
        for name in ("Beta", "Gamma"):  # taken by another workspace, and free
            with pytest.raises(StudioError) as refused, db.session() as session:
                repo = Workspaces(session)
                repo.rename(repo.get(alpha), name)
            answers.append(str(refused.value))
        with db.session() as session:
            Workspaces(session).get(alpha).description = "our shoots"  # its description is its own
        with pytest.raises((StudioError, Conflict)), db.session() as session:
            Workspaces(session).create("Delta")
    finally:
        db.dispose()
    assert answers[0] == answers[1].replace("Gamma", "Beta") and "admin" in answers[0]
    assert "\n" not in answers[0] and "SQL" not in answers[0]
    with psycopg.connect(team_url) as conn:
        assert conn.execute("SELECT name, description FROM workspaces WHERE id = %s",
                            (alpha,)).fetchone() == ("Alpha", "our shoots")


def test_every_table_a_workspace_role_may_write_has_row_level_security(
        team_url: str, two_workspaces: dict[str, uuid.UUID]) -> None:
    role = grant_workspace_role(team_url, two_workspaces["Alpha"], PASSWORD)
    with psycopg.connect(team_url) as conn:
        grants = conn.execute("SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                              "WHERE grantee = %s", (role,)).fetchall()
        secured = {r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relnamespace = 'public'::regnamespace")}
    written = {table for table, privilege in grants if privilege in ("INSERT", "UPDATE", "DELETE")}
    assert {"jobs", "caption_changes", "workers", "change_log", "llm_calls"} <= written
    assert written <= secured
    assert ("workspaces", "INSERT") not in grants and ("workspaces", "DELETE") not in grants
    assert ("workers", "DELETE") not in grants


def test_a_role_granted_before_0010_gets_the_narrower_grants_on_upgrade(postgres_url: str) -> None:
    from studio.engine.db.database import make_engine, migrate
    engine = make_engine(postgres_url)
    role = workspace_role(uuid.uuid4())
    try:
        migrate(engine, revision="0009")
        with psycopg.connect(postgres_url, autocommit=True) as conn:  # as `server grant` did then
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces, workers TO {role}")
        migrate(engine)
        with psycopg.connect(postgres_url) as conn:
            granted = {(r[0], r[1]) for r in conn.execute(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = %s", (role,))}
    finally:
        engine.dispose()
    assert ("caption_changes", "INSERT") in granted and ("workspaces", "UPDATE") in granted
    assert not {("workspaces", "INSERT"), ("workspaces", "DELETE"), ("workers", "DELETE")} & granted
