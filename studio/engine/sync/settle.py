"""Settling one sync conflict with the user's choice: keep mine or keep theirs.

A field conflict: the chosen side's values of the conflicting fields go to the other side; the
row's other fields stay as they are. A clash (two rows made separately under one name): this
studio's row is folded into the server's (``clashes.fold``) with the chosen side's values.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Table

from studio.engine.db.models import Base
from studio.engine.errors import NotFound
from studio.engine.sync.clashes import fold
from studio.engine.sync.fields import digest, digests
from studio.engine.sync.rows import read_rows, version_of, write_row
from studio.engine.sync.state import CLASH, SyncState, conflict_kind

Pushed = tuple[str, dict[str, Any]] | None  # the table and row sent to the server, for its file


def settle(here: Connection, there: Connection, state: SyncState, workspace_id: uuid.UUID,
           key: str, keep: str) -> Pushed:
    conflict = state.conflicts[key]
    table = Base.metadata.tables[conflict["table"]]
    mine = read_rows(here, table, workspace_id).get(conflict["row_id"])
    theirs_id = conflict.get("theirs_id", conflict["row_id"])
    theirs = read_rows(there, table, workspace_id).get(theirs_id)
    if mine is None or theirs is None:
        raise NotFound("The row was removed on one side since; sync again.")
    if conflict_kind(conflict) == CLASH:
        pushed = _settle_clash(here, there, state, table, (mine, theirs), keep)
    else:
        pushed = _settle_fields(here, there, state, key, table, (mine, theirs), keep, list(conflict["mine"]))
    del state.conflicts[key]
    return pushed


def _settle_fields(here: Connection, there: Connection, state: SyncState, key: str, table: Table,
                   pair: tuple[dict[str, Any], dict[str, Any]], keep: str, names: list[str]) -> Pushed:
    mine, theirs = pair
    versions = state.rows.setdefault(key, [version_of(mine), version_of(theirs)])
    chosen, side = (mine, 1) if keep == "mine" else (theirs, 0)
    target = pair[side]
    row = {**target, **{name: chosen[name] for name in names}}
    new = write_row(there if side == 1 else here, table, row, exists=True,
                    expected_version=version_of(target))
    if versions[side] == version_of(target):  # else that side changed since: the next sync sees it
        versions[side] = new
    base = state.bases.get(key)
    if base is None:  # a conflict from before field digests covered every field that differed
        state.bases[key] = digests(row)
    else:
        base.update({name: digest(chosen[name]) for name in names})
    return (table.name, row) if side == 1 and "storage_key" in names else None


def _settle_clash(here: Connection, there: Connection, state: SyncState, table: Table,
                  pair: tuple[dict[str, Any], dict[str, Any]], keep: str) -> Pushed:
    """The server's row keeps its id (other desks know it by that); the values are the choice."""
    mine, theirs = pair
    if keep == "mine":
        merged = {**mine, "id": theirs["id"], "created_at": theirs["created_at"]}
        merged["version"] = write_row(there, table, merged, exists=True,
                                      expected_version=version_of(theirs))
    else:
        merged = dict(theirs)
    fold(here, table, mine, merged)
    key = f"{table.name}:{theirs['id']}"
    state.rows[key] = [version_of(merged), version_of(merged)]
    state.bases[key] = digests(merged)
    return (table.name, merged) if keep == "mine" else None
