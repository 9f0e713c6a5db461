"""Publish and sync a workspace between this studio's local database and a team server.

Rows keep their UUIDs on both sides. For each row the sync state remembers the pair of
versions (local, server) seen at the last sync, so a later sync knows who changed what:

- changed here only → pushed to the server; changed there only → pulled here;
- changed on both sides to different values → a conflict: neither side is touched, both
  versions are kept for the user to choose (``resolve``), never a silent overwrite;
- new on one side → copied; gone from one side and unchanged on the other → removed there.

Asset files of pushed rows go to S3 under the same keys (skipped when the same bytes are there,
multipart and resumable); pulled rows' files are fetched on demand (``fetch_asset``). Working
offline needs nothing special: edits wait in the local database until the next sync.

How rows are read and written is in ``rows``; the two databases and stores in ``sides``.
"""
from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from studio.engine.db.models import Base
from studio.engine.errors import Conflict, InvalidInput, NotFound
from studio.engine.fsutil import atomic_write_text
from studio.engine.sync.rows import (
    content,
    delete_row,
    differences,
    read_rows,
    settled,
    synced_tables,
    version_of,
    write_row,
)
from studio.engine.sync.sides import Sides

log = logging.getLogger("studio.sync")

Progress = Callable[[float, str], None]


@dataclass(slots=True)
class SyncConflict:
    table: str
    row_id: str
    mine: dict[str, Any]  # the fields that differ, as this studio has them
    theirs: dict[str, Any]  # ... and as the server has them


@dataclass(slots=True)
class SyncResult:
    pushed: int = 0
    pulled: int = 0
    removed: int = 0
    uploaded: int = 0
    conflicts: list[SyncConflict] = field(default_factory=list)


class SyncState:
    """Per workspace, in the data folder: the versions seen at the last sync, open conflicts."""

    def __init__(self, folder: Path, workspace_id: uuid.UUID) -> None:
        self.path = folder / f"{workspace_id}.json"
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        self.rows: dict[str, list[int]] = raw.get("rows", {})
        self.conflicts: dict[str, dict[str, Any]] = raw.get("conflicts", {})
        self.linked: bool = bool(raw.get("linked", False))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps({"linked": self.linked, "rows": self.rows,
                                                 "conflicts": self.conflicts}, indent=1))


class WorkspaceSync:
    def __init__(self, sides: Sides, workspace_id: uuid.UUID) -> None:
        self.sides = sides
        self.workspace_id = workspace_id
        self.state = SyncState(sides.state_dir, workspace_id)
        self._pending: list[str] = []  # storage keys of pushed rows, uploaded before commit
        # Local writes wait until the end of a sync: SQLite holds its write lock from the first
        # write to the commit, and the job's progress goes to that same database meanwhile.
        self._local_ops: list[Callable[[Connection], object]] = []  # run for their effect
        self._before: dict[str, list[int]] = {}

    # Entry points -------------------------------------------------------------------------------

    def publish(self, progress: Progress | None = None) -> SyncResult:
        """A local workspace goes to the server (records and asset files)."""
        with self.sides.local.engine.connect() as conn:
            local = read_rows(conn, Base.metadata.tables["workspaces"], self.workspace_id)
        if not local:
            raise NotFound(f"No local workspace with id '{self.workspace_id}'.")
        name = next(iter(local.values()))["name"]
        with self.sides.server.engine.connect() as conn:
            table = Base.metadata.tables["workspaces"]
            clash = conn.execute(select(table.c.id).where(table.c.name == name)).scalar()
        if clash is not None and clash != self.workspace_id:
            raise Conflict(f"The server already has another workspace named '{name}'; rename "
                           "this one first.")
        self.state.linked = True
        return self.run(progress)

    def open(self, progress: Progress | None = None) -> SyncResult:
        """A server workspace comes to this studio (records now, files on demand)."""
        self.open_row()
        return self.run(progress)

    def open_row(self) -> str:
        """Only the workspace's own row, so jobs can be filed under it before the rest comes."""
        table = Base.metadata.tables["workspaces"]
        with self._both() as (here, there):
            remote = read_rows(there, table, self.workspace_id)
            if not remote:
                raise NotFound(f"The server has no workspace with id '{self.workspace_id}'.")
            row = next(iter(remote.values()))
            clash = here.execute(select(table.c.id).where(table.c.name == row["name"])).scalar()
            if clash is not None and clash != self.workspace_id:
                raise Conflict(f"This studio already has another workspace named '{row['name']}'.")
            if clash is None:
                here.execute(insert(table).values(**row))
                self.state.rows[f"workspaces:{row['id']}"] = [version_of(row), version_of(row)]
        self.state.linked = True
        self.state.save()
        return str(row["name"])

    def run(self, progress: Progress | None = None) -> SyncResult:
        if not self.state.linked:
            raise InvalidInput("This workspace is not on the server; publish it first.")
        result = SyncResult()
        tables = synced_tables()
        self._before = {k: list(v) for k, v in self.state.rows.items()}
        self._local_ops = []
        with self._both() as (here, there):
            for index, table in enumerate(tables):
                if progress:
                    progress(index / (len(tables) + 1), f"records: {table.name}")
                self._sync_table(here, there, table, result)
            # Removals run children first, so foreign keys never point at a row already gone.
            for table in reversed(tables):
                self._remove_gone(here, there, table, result)
            if progress:
                progress(len(tables) / (len(tables) + 1), "asset files")
            # Before the records commit: a cut upload rolls them back, and the next sync sends
            # them again while the files already up are skipped (same sha256).
            result.uploaded = self._upload_files()
            if progress:
                progress(len(tables) / (len(tables) + 1), "writing local records")
            for operation in self._local_ops:
                operation(here)
        self.state.save()
        if progress:
            progress(1.0, "done")
        return result

    def conflicts(self) -> list[SyncConflict]:
        return [SyncConflict(c["table"], c["row_id"], c["mine"], c["theirs"])
                for c in self.state.conflicts.values()]

    def resolve(self, row_id: str, keep: str) -> None:
        """``keep`` is "mine" (this studio's version goes to the server) or "theirs"."""
        if keep not in ("mine", "theirs"):
            raise InvalidInput("Keep 'mine' or 'theirs'.")
        found = [k for k, c in self.state.conflicts.items() if c["row_id"] == row_id]
        if not found:
            raise NotFound(f"No open sync conflict for row '{row_id}'.")
        key = found[0]
        table = Base.metadata.tables[self.state.conflicts[key]["table"]]
        with self._both() as (here, there):
            mine = read_rows(here, table, self.workspace_id).get(row_id)
            theirs = read_rows(there, table, self.workspace_id).get(row_id)
            if mine is None or theirs is None:
                raise NotFound("The row was removed on one side; sync again.")
            if keep == "mine":
                new_server = write_row(there, table, mine, exists=True, expected_version=version_of(theirs))
                self.state.rows[key] = [version_of(mine), new_server]
                self._pushed(table, mine)
                self._upload_files()
            else:
                new_local = write_row(here, table, theirs, exists=True, expected_version=version_of(mine))
                self.state.rows[key] = [new_local, version_of(theirs)]
            del self.state.conflicts[key]
        self.state.save()

    # Inner workings ------------------------------------------------------------------------------

    @contextmanager
    def _both(self) -> Iterator[tuple[Connection, Connection]]:
        """One transaction on each side; the server's commits first, so a cut connection
        leaves the local side (and the state file) as before, to be synced again."""
        with self.sides.local.engine.connect() as here, self.sides.server.engine.connect() as there:
            here_tx, there_tx = here.begin(), there.begin()
            try:
                yield here, there
                there_tx.commit()
                here_tx.commit()
            except BaseException:
                there_tx.rollback()
                here_tx.rollback()
                self.state = SyncState(self.sides.state_dir, self.workspace_id)
                raise

    def _sync_table(self, here: Connection, there: Connection, table: Table,
                    result: SyncResult) -> None:
        mine_rows = read_rows(here, table, self.workspace_id)
        their_rows = read_rows(there, table, self.workspace_id)
        def parents_first(row_id: str) -> tuple[bool, str]:  # jobs.parent_id points at jobs
            row = mine_rows.get(row_id) or their_rows.get(row_id) or {}
            return (row.get("parent_id") is not None, row_id)

        for row_id in sorted(set(mine_rows) | set(their_rows), key=parents_first):
            mine, theirs = mine_rows.get(row_id), their_rows.get(row_id)
            if table.name == "jobs" and not settled(mine, theirs):
                continue
            if theirs is None:
                assert mine is not None
                self._sync_only_here(there, table, row_id, mine, result)
            elif mine is None:
                self._sync_only_there(table, row_id, theirs, result)
            else:
                self._sync_on_both(there, table, row_id, (mine, theirs), result)

    def _sync_only_here(self, there: Connection, table: Table, row_id: str,
                        mine: dict[str, Any], result: SyncResult) -> None:
        key = f"{table.name}:{row_id}"
        base = self.state.rows.get(key)
        if base is None or version_of(mine) != base[0]:  # new here, or changed since
            self._push(there, table, key, mine, server_version=None, result=result)
        # else: removed on the server; _remove_gone deletes it here

    def _sync_only_there(self, table: Table, row_id: str, theirs: dict[str, Any],
                         result: SyncResult) -> None:
        key = f"{table.name}:{row_id}"
        base = self.state.rows.get(key)
        if base is None or version_of(theirs) != base[1]:
            self._pull(table, key, theirs, local_version=None, result=result)

    def _sync_on_both(self, there: Connection, table: Table, row_id: str,
                      pair: tuple[dict[str, Any], dict[str, Any]], result: SyncResult) -> None:
        mine, theirs = pair
        key = f"{table.name}:{row_id}"
        base = self.state.rows.get(key)
        if base is None:  # the same row on both sides, first seen now
            base = [version_of(mine), version_of(theirs)] if content(mine) == content(theirs) else [0, 0]
            self.state.rows[key] = base
        mine_changed, theirs_changed = version_of(mine) != base[0], version_of(theirs) != base[1]
        if mine_changed and theirs_changed:
            self._changed_on_both(table, row_id, mine, theirs, result)
        elif mine_changed:
            self._push(there, table, key, mine, server_version=version_of(theirs), result=result)
        elif theirs_changed:
            self._pull(table, key, theirs, local_version=version_of(mine), result=result)

    def _changed_on_both(self, table: Table, row_id: str, mine: dict[str, Any],
                         theirs: dict[str, Any], result: SyncResult) -> None:
        """Equal edits on both sides are simply in step; different ones become a conflict."""
        key = f"{table.name}:{row_id}"
        if content(mine) == content(theirs):
            self.state.rows[key] = [version_of(mine), version_of(theirs)]
            return
        a, b = differences(mine, theirs)
        self.state.conflicts[key] = {"table": table.name, "row_id": row_id, "mine": a, "theirs": b}
        result.conflicts.append(SyncConflict(table.name, row_id, a, b))

    def _push(self, there: Connection, table: Table, key: str, mine: dict[str, Any], *,
              server_version: int | None, result: SyncResult) -> None:
        """This studio's row goes to the server: inserted when ``server_version`` is None."""
        new_server = write_row(there, table, mine, exists=server_version is not None,
                               expected_version=server_version)
        self.state.rows[key] = [version_of(mine), new_server]
        self._pushed(table, mine)
        result.pushed += 1

    def _pull(self, table: Table, key: str, theirs: dict[str, Any], *,
              local_version: int | None, result: SyncResult) -> None:
        """The server's row comes here (at the end of the sync): inserted when ``local_version``
        is None."""
        new_local = self._later(table, theirs, exists=local_version is not None,
                                expected_version=local_version)
        self.state.rows[key] = [new_local, version_of(theirs)]
        result.pulled += 1

    def _remove_gone(self, here: Connection, there: Connection, table: Table,
                     result: SyncResult) -> None:
        """A row synced before and now gone from one side (purged) goes from the other side too,
        unless it was changed there since (then the next sync copies it back)."""
        mine_rows = read_rows(here, table, self.workspace_id)
        their_rows = read_rows(there, table, self.workspace_id)
        prefix = f"{table.name}:"
        for key, base in list(self.state.rows.items()):
            if not key.startswith(prefix) or self._before.get(key) != base:
                continue  # another table's, or new or changed in this very sync
            row_id = key[len(prefix):]
            mine, theirs = mine_rows.get(row_id), their_rows.get(row_id)
            if table.name == "jobs" and not settled(mine, theirs):
                continue
            if mine is None and theirs is None:
                del self.state.rows[key]
            elif theirs is None and mine is not None and version_of(mine) == base[0]:
                self._local_ops.append(functools.partial(delete_row, table=table, row_id=mine["id"]))
                del self.state.rows[key]
                result.removed += 1
            elif mine is None and theirs is not None and version_of(theirs) == base[1]:
                there.execute(delete(table).where(table.c.id == theirs["id"]))
                del self.state.rows[key]
                result.removed += 1

    def _later(self, table: Table, row: dict[str, Any], *, exists: bool,
               expected_version: int | None) -> int:
        """A local write, run at the end of the sync; returns the version it will leave."""
        self._local_ops.append(lambda conn: write_row(conn, table, row, exists=exists,
                                                   expected_version=expected_version))
        if exists and "version" in table.c and expected_version is not None:
            return expected_version + 1
        return version_of(row)

    def _pushed(self, table: Table, row: dict[str, Any]) -> None:
        key = row.get("storage_key") if "storage_key" in table.c else None
        if key:
            self._pending.append(str(key))

    def _upload_files(self) -> int:
        """Files of pushed rows go to S3 (skipped when the same bytes are there already)."""
        keys, self._pending = self._pending, []
        uploaded = 0
        for key in keys:
            source = self.sides.local_store.path(key)
            if not source.is_file():
                log.warning("sync: %s has no local file to upload", key)
                continue
            self.sides.remote_store.put_file(source, key)
            uploaded += 1
        return uploaded
