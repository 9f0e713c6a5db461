"""Rows as sync sees them: which tables belong to a workspace, how to read, compare and write them.

Each function works on one connection (local or server) and knows nothing of sync state; the
decisions about who changed what are in ``records``.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from studio.engine.db.models import Base
from studio.engine.errors import Conflict
from studio.engine.jobs.status import ACTIVE

MACHINE_TABLES = {"workers", "change_log"}  # this machine's processes and what they wrote lately, not workspace data
CHILD_TABLES = {"caption_changes": ("batch_id", "caption_batches")}  # scoped through a parent
META = {"version", "updated_at", "created_at"}


def synced_tables() -> list[Table]:
    """Every workspace table, parents before children (inserts), in dependency order."""
    tables = []
    for table in Base.metadata.sorted_tables:
        if table.name in MACHINE_TABLES:
            continue
        if table.name == "workspaces" or "workspace_id" in table.c or table.name in CHILD_TABLES:
            tables.append(table)
    return tables


def read_rows(conn: Connection, table: Table, workspace_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """The workspace's rows of ``table`` by id (as text)."""
    if table.name == "workspaces":
        query = select(table).where(table.c.id == workspace_id)
    elif table.name in CHILD_TABLES:
        column, parent_name = CHILD_TABLES[table.name]
        parent = Base.metadata.tables[parent_name]
        query = select(table).where(table.c[column].in_(
            select(parent.c.id).where(parent.c.workspace_id == workspace_id)))
    else:
        query = select(table).where(table.c.workspace_id == workspace_id)
    return {str(row["id"]): dict(row) for row in conn.execute(query).mappings()}


def settled(mine: dict[str, Any] | None, theirs: dict[str, Any] | None) -> bool:
    """False for a job still waiting or running on either side: it is left alone until done,
    since a running job is the business of the machine that runs it."""
    return not any(row is not None and row.get("status") in ACTIVE and "queue" in row
                   for row in (mine, theirs))


def content(row: dict[str, Any]) -> dict[str, Any]:
    """The row without its bookkeeping (version, timestamps): what two sides compare."""
    return {k: v for k, v in row.items() if k not in META}


def differences(mine: dict[str, Any], theirs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, each side's values as JSON-ready values."""
    keys = [k for k in content(mine) if mine.get(k) != theirs.get(k)]
    return ({k: plain(mine[k]) for k in keys}, {k: plain(theirs.get(k)) for k in keys})


def plain(value: Any) -> Any:
    """A JSON-ready value: ids and times as text."""
    if isinstance(value, (uuid.UUID, datetime, date)):
        return str(value)
    return value


def version_of(row: dict[str, Any]) -> int:
    return int(row.get("version") or 1)


def delete_row(conn: Connection, *, table: Table, row_id: object) -> None:
    conn.execute(delete(table).where(table.c.id == row_id))


def write_row(conn: Connection, table: Table, row: dict[str, Any], *, exists: bool,
              expected_version: int | None) -> int:
    """Inserts the row, or updates it if it still has ``expected_version``; the new version."""
    if not exists:
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**row))
        except IntegrityError as exc:
            name = row.get("name") or row.get("original_name") or row["id"]
            raise Conflict(f"'{name}' ({table.name}) was made on both sides separately; rename "
                           "or delete one of them and sync again.") from exc
        return version_of(row)
    values = {k: v for k, v in row.items() if k != "id"}
    where = [table.c.id == row["id"]]
    if "version" in table.c and expected_version is not None:
        values["version"] = expected_version + 1
        where.append(table.c.version == expected_version)
    done = conn.execute(update(table).where(and_(*where)).values(**values))
    if done.rowcount != 1:
        raise Conflict(f"A {table.name} row changed while it was being synced; sync again.")
    return int(values.get("version", 1))
