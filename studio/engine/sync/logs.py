"""Tables that are logs of edits merge: both sides' rows are kept, in time order.

Which tables are logs (audited against ``db/models.py``):

- ``caption_batches``: the caption history (undo/redo steps) of a dataset. Its ``seq`` orders
  the steps and is unique per dataset, so two desks that each add a step both make step N+1.
  Both steps are kept: ``seq`` is renumbered on both sides by creation time (then id).
- ``caption_changes``: the before/after texts of a step, child of ``caption_batches``; keyed by
  UUID only, so both sides' rows are simply copied.
- ``llm_calls``: the spend ledger, one row per paid call; keyed by UUID only, copied the same way.
- ``change_log`` is this machine's recent-writes feed and never synced (``rows.MACHINE_TABLES``).

Every other table with a unique key holds records users name or import (workspaces, influencers,
datasets, images): two made separately under one name are a clash for the user to settle
(``clashes``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, update

ORDERED_LOGS = {"caption_batches": ("dataset_id", "seq")}  # table: (the log it is in, its order)
DERIVED_FIELDS = frozenset(column for _, column in ORDERED_LOGS.values())  # not compared
LOG_TABLES = frozenset({*ORDERED_LOGS, "caption_changes", "llm_calls"})

Rows = dict[str, dict[str, Any]]


def is_log(table: Table) -> bool:
    return table.name in LOG_TABLES


def merged_order(table: Table, mine: Rows, theirs: Rows) -> dict[str, int]:
    """The position of every row of both sides in its log: by creation time, then id."""
    group, _ = ORDERED_LOGS[table.name]
    union = {**theirs, **mine}
    logs: dict[str, list[tuple[Any, str]]] = {}
    for row_id, row in union.items():
        logs.setdefault(str(row[group]), []).append((row["created_at"], row_id))
    order: dict[str, int] = {}
    for entries in logs.values():
        for position, (_, row_id) in enumerate(sorted(entries), start=1):
            order[row_id] = position
    return order


def renumber(conn: Connection, table: Table, rows: Rows, order: dict[str, int]) -> None:
    """Gives the rows their merged positions. Moved rows pass through negative numbers first,
    so no two rows share a position at any moment (the unique key is checked per statement)."""
    _, column = ORDERED_LOGS[table.name]
    moved = {row_id: order[row_id] for row_id, row in rows.items() if row[column] != order[row_id]}
    for row_id, position in moved.items():
        conn.execute(update(table).where(table.c.id == rows[row_id]["id"])
                     .values({column: -position}))
    for row_id, position in moved.items():
        conn.execute(update(table).where(table.c.id == rows[row_id]["id"])
                     .values({column: position}))


def put_in_order(table: Table, mine: Rows, theirs: Rows,
                 later: Callable[[Callable[[Connection], object]], None], there: Connection) -> None:
    """Renumbers the server's rows now and this studio's at the end of the sync (``later``), and
    gives the rows in hand their merged positions, so what is copied carries them too."""
    if table.name not in ORDERED_LOGS:
        return
    _, column = ORDERED_LOGS[table.name]
    order = merged_order(table, mine, theirs)
    renumber(there, table, theirs, order)
    local = {row_id: dict(row) for row_id, row in mine.items()}
    later(lambda conn: renumber(conn, table, local, order))
    for rows in (mine, theirs):
        for row_id, row in rows.items():
            row[column] = order[row_id]
