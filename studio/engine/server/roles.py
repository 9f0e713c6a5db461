"""Per-workspace PostgreSQL roles: the second wall behind the repositories.

A role named ``ws_<workspace id hex>`` may log in and use the studio's tables, but the
row-level security policies (migration 0005) show and accept only its own workspace's rows.
Made by the team's own role (the one that ran the migrations and owns the tables).
"""
from __future__ import annotations

import uuid
from typing import LiteralString

import psycopg
from psycopg import sql

from studio.engine.errors import InvalidInput, StudioError

# The studio reads these machine-level tables in any workspace; they carry no workspace's data.
SHARED_READ = ("alembic_version",)
SHARED_WRITE = ("workers",)


def workspace_role(workspace_id: uuid.UUID | str) -> str:
    return f"ws_{uuid.UUID(str(workspace_id)).hex}"


def grant_workspace_role(admin_url: str, workspace_id: uuid.UUID | str, password: str) -> str:
    """Creates (or updates the password of) the workspace's role; returns its name."""
    if len(password) < 12:
        raise InvalidInput("A workspace role's password must have at least 12 characters.")
    role = workspace_role(workspace_id)
    ident = sql.Identifier(role)
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT studio_secure_workspace_tables()")  # tables added since 0005 too
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
            conn.execute(sql.SQL("{} {} LOGIN NOINHERIT NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                verb, ident, sql.Literal(password)))
            database = str(first_value(conn, "SELECT current_database()"))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(database), ident))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
            for table in _workspace_tables(conn):
                conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                    sql.Identifier(table), ident))
            for table in SHARED_READ:
                conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(table), ident))
            for table in SHARED_WRITE:
                conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(
                    sql.Identifier(table), ident))
    except psycopg.Error as exc:
        raise StudioError(f"The workspace role could not be made: {_one_line(exc)}") from exc
    return role


def drop_workspace_role(admin_url: str, workspace_id: uuid.UUID | str) -> None:
    role = sql.Identifier(workspace_role(workspace_id))
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(role))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
    except psycopg.Error as exc:
        raise StudioError(f"The workspace role could not be removed: {_one_line(exc)}") from exc


def first_value(conn: psycopg.Connection, query: LiteralString) -> object:
    """The first column of the one row a query like ``SELECT current_user`` answers."""
    row = conn.execute(query).fetchone()
    if row is None:
        raise psycopg.DataError(f"PostgreSQL answered no row to {query}.")
    return row[0]


def _workspace_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_policies WHERE schemaname = 'public' "
                        "AND policyname = 'workspace_isolation' ORDER BY tablename").fetchall()
    return [str(row[0]) for row in rows]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
