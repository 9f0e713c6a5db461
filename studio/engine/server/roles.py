"""Per-workspace PostgreSQL roles: the second wall behind the repositories.

A role named ``ws_<workspace id hex>`` may log in and use the studio's tables, but the
row-level security policies (migrations 0005 and 0010) show and accept only its own workspace's
rows. Made by the team's own role, the one that ran the migrations and owns the tables; it
needs CREATEROLE, not superuser.

The password never reaches the server: the role is made without one, then given a SCRAM-SHA-256
verifier computed here (libpq's PQencryptPasswordConn), so no statement, and no failed statement
PostgreSQL logs, carries it.
"""
from __future__ import annotations

import re
import time
import uuid
from typing import LiteralString
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from studio.engine.errors import InvalidInput, StudioError

# The studio reads these machine-level tables in any workspace; they carry no workspace's data.
SHARED_READ = ("alembic_version",)
# Row-level security (0010) limits a workspace role to the worker records it made itself.
SHARED_WRITE = ("workers",)
SESSIONS_GONE_S = 5.0
WORKSPACE_ROLE = re.compile(r"ws_[0-9a-f]{32}")


def workspace_role(workspace_id: uuid.UUID | str) -> str:
    return f"ws_{uuid.UUID(str(workspace_id)).hex}"


def workspace_role_in(database_url: str) -> str | None:
    """The workspace role a PostgreSQL URL logs in as; None for the team role or SQLite."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgresql"):
        return None
    user = unquote(parts.username or "")
    return user if WORKSPACE_ROLE.fullmatch(user) else None


def grant_workspace_role(admin_url: str, workspace_id: uuid.UUID | str, password: str) -> str:
    """Creates (or updates the password of) the workspace's role; returns its name."""
    if len(password) < 12:
        raise InvalidInput("A workspace role's password must have at least 12 characters.")
    role = workspace_role(workspace_id)
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT studio_secure_workspace_tables()")  # tables added since 0005 too
            _ensure_role(conn, role)
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(scram_verifier(conn, role, password))))
            _grant_tables(conn, role)
    except psycopg.Error as exc:
        raise StudioError(f"The workspace role could not be made: {_one_line(exc)}") from exc
    return role


def drop_workspace_role(admin_url: str, workspace_id: uuid.UUID | str) -> int:
    """Ends the role's access: no new logins, its open sessions ended, its grants and the role
    itself removed. Returns how many open sessions were ended."""
    role = workspace_role(workspace_id)
    ident = sql.Identifier(role)
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                return 0
            conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(ident))
            _hold_role(conn, role)
            ended = _end_sessions(conn, role)
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))  # its grants, here and on the database
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))
    except psycopg.Error as exc:
        raise StudioError(f"The workspace role could not be removed: {_one_line(exc)}") from exc
    return ended


def scram_verifier(conn: psycopg.Connection, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``, computed on this side."""
    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return verifier.decode("ascii")


def first_value(conn: psycopg.Connection, query: LiteralString) -> object:
    """The first column of the one row a query like ``SELECT current_user`` answers."""
    row = conn.execute(query).fetchone()
    if row is None:
        raise psycopg.DataError(f"PostgreSQL answered no row to {query}.")
    return row[0]


def _ensure_role(conn: psycopg.Connection, role: str) -> None:
    """The role, able to log in once it has a password; the admin becomes a member of it."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER ROLE" if exists else "CREATE ROLE"
    conn.execute(sql.SQL("{} {} LOGIN NOINHERIT NOCREATEDB NOCREATEROLE").format(
        sql.SQL(verb), sql.Identifier(role)))
    _hold_role(conn, role)


def _hold_role(conn: psycopg.Connection, role: str) -> None:
    """Membership in the role: what lets a CREATEROLE admin (not a superuser) end the role's
    sessions (pg_terminate_backend) and drop what it was granted (DROP OWNED)."""
    row = conn.execute("SELECT rolsuper, pg_has_role(current_user, %s, 'USAGE') FROM pg_roles "
                       "WHERE rolname = current_user", (role,)).fetchone()
    if row is not None and not row[0] and not row[1]:
        conn.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(role)))


def _grant_tables(conn: psycopg.Connection, role: str) -> None:
    ident = sql.Identifier(role)
    database = str(first_value(conn, "SELECT current_database()"))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
    for table in _workspace_tables(conn):
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
            sql.Identifier(table), ident))
    # Its own workspace's row: read it, change its description (0010 keeps the name and budget
    # for the admin); making or deleting workspaces is the admin's.
    conn.execute(sql.SQL("GRANT SELECT, UPDATE ON workspaces TO {}").format(ident))
    conn.execute(sql.SQL("REVOKE INSERT, DELETE ON workspaces FROM {}").format(ident))
    for table in SHARED_READ:
        conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(table), ident))
    for table in SHARED_WRITE:
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(
            sql.Identifier(table), ident))
        conn.execute(sql.SQL("REVOKE DELETE ON {} FROM {}").format(sql.Identifier(table), ident))


def _end_sessions(conn: psycopg.Connection, role: str) -> int:
    rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                        (role,)).fetchall()
    deadline = time.monotonic() + SESSIONS_GONE_S
    while time.monotonic() < deadline:  # the signal is sent; the sessions take a moment to go
        left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)).fetchone()
        if not left or not left[0]:
            break
        time.sleep(0.05)
    return sum(1 for row in rows if row[0])


def _workspace_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_policies WHERE schemaname = 'public' "
                        "AND policyname = 'workspace_isolation' AND tablename <> 'workspaces' "
                        "ORDER BY tablename").fetchall()
    return [str(row[0]) for row in rows]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
