"""Two rows made separately on two sides under one unique key (an influencer named "Mia" on both
desks, the same picture imported into one dataset twice).

The clash does not stop the sync: both rows, and the rows that hang on them, wait, and the user
settles it with ``keep mine`` or ``keep theirs``. Either way the server's row keeps its identity
(other desks know it by that id): this studio's row is folded into it, its children re-pointed;
the choice says whose field values the merged row keeps.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, UniqueConstraint, delete, insert, update

from studio.engine.db.models import Base
from studio.engine.sync.fields import differing
from studio.engine.sync.logs import ORDERED_LOGS
from studio.engine.sync.rows import plain
from studio.engine.sync.state import CLASH

Rows = dict[str, dict[str, Any]]


def unique_keys(table: Table) -> list[tuple[str, ...]]:
    """The table's unique keys other than its id; a log's order is no clash (``logs``)."""
    keys = [tuple(c.name for c in constraint.columns) for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)]
    keys += [(column.name,) for column in table.columns if column.unique]
    ordered = ORDERED_LOGS.get(table.name)
    return [key for key in keys if key != ordered]


def find_clashes(table: Table, only_here: Rows, only_there: Rows) -> dict[str, str]:
    """This studio's new rows that hold a unique key a new server row holds: mine id → theirs."""
    found: dict[str, str] = {}
    for key in unique_keys(table):
        theirs = {tuple(str(row[c]) for c in key): row_id for row_id, row in only_there.items()}
        for row_id, row in only_here.items():
            match = theirs.get(tuple(str(row[c]) for c in key))
            if match is not None:
                found.setdefault(row_id, match)
    return found


def clash_record(table: Table, mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """The clash as the sync state keeps it: both rows' names and the fields they differ in."""
    names = [name for name in ("name", "original_name", "sha256") if name in mine]
    shown = sorted(differing(mine, theirs) | {"id", *names})
    return {"kind": CLASH, "table": table.name, "row_id": str(mine["id"]),
            "theirs_id": str(theirs["id"]), "mine": {k: plain(mine.get(k)) for k in shown},
            "theirs": {k: plain(theirs.get(k)) for k in shown}}


def parents_of(table: Table, row: dict[str, Any]) -> set[str]:
    """The ids this row points at through its foreign keys."""
    return {str(row[fk.parent.name]) for fk in table.foreign_keys if row.get(fk.parent.name)}


def fold(conn: Connection, table: Table, mine: dict[str, Any], merged: dict[str, Any]) -> None:
    """Replaces this studio's row by ``merged`` (the server's id): the row goes in under a free
    key, the rows that point at the old id are moved onto it, the old row goes."""
    placeholder = _out_of_the_way(table, mine)
    conn.execute(update(table).where(table.c.id == mine["id"]).values(**placeholder))
    conn.execute(insert(table).values(**merged))
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                conn.execute(update(child).where(child.c[fk.parent.name] == mine["id"])
                             .values({fk.parent.name: merged["id"]}))
    conn.execute(delete(table).where(table.c.id == mine["id"]))


def _out_of_the_way(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Values for the old row's unique text columns that nothing else holds: its own id."""
    values: dict[str, Any] = {}
    for key in unique_keys(table):
        for name in key:
            column = table.c[name]
            if not column.foreign_keys and column.type.python_type is str:
                values[name] = str(row["id"])
    return values
