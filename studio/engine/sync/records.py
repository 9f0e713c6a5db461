"""Publish and sync a workspace between this studio's local database and a team server.

Rows keep their UUIDs on both sides. For each row the sync state (``state``) remembers the pair
of versions (local, server) and a digest of each field as they were at the last sync, so a later
sync knows who changed what:

- changed here only → pushed to the server; changed there only → pulled here;
- changed on both sides → merged field by field (``fields``): different fields are both kept;
  the same field changed to different values is a conflict, left as each side has it until the
  user chooses (``resolve``), never a silent overwrite;
- logs of edits (the caption history) keep both sides' rows, in time order (``logs``);
- new on one side → copied; two new rows under one unique name → a clash for the user to settle,
  while the rest of the workspace syncs (``clashes``);
- gone from one side and unchanged on the other → removed there.

Asset files of pushed rows go to S3 under the same keys (skipped when the same bytes are there,
multipart and resumable); pulled rows' files are fetched on demand (``fetch_asset``). Working
offline needs nothing special: edits wait in the local database until the next sync.

How rows are read and written is in ``rows``; the two databases and stores in ``sides``.
"""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from studio.engine.db.models import Base
from studio.engine.errors import Conflict, InvalidInput, NotFound
from studio.engine.sync import settle
from studio.engine.sync.clashes import clash_record, find_clashes, parents_of
from studio.engine.sync.fields import (
    changed_fields,
    differing,
    digests,
    merge,
    next_base,
    stamped,
)
from studio.engine.sync.logs import put_in_order
from studio.engine.sync.rows import (
    content,
    delete_row,
    plain,
    read_rows,
    settled,
    synced_tables,
    version_of,
    write_row,
)
from studio.engine.sync.sides import Sides
from studio.engine.sync.state import CLASH, FIELDS, SyncState, conflict_kind

__all__ = ["SyncConflict", "SyncResult", "SyncState", "WorkspaceSync"]

log = logging.getLogger("studio.sync")

Progress = Callable[[float, str], None]
Rows = dict[str, dict[str, Any]]


@dataclass(slots=True)
class SyncConflict:
    table: str
    row_id: str
    mine: dict[str, Any]  # the fields that differ, as this studio has them
    theirs: dict[str, Any]  # ... and as the server has them
    kind: str = FIELDS  # or CLASH: two rows made separately under one name


@dataclass(slots=True)
class SyncResult:
    pushed: int = 0
    pulled: int = 0
    removed: int = 0
    uploaded: int = 0
    conflicts: list[SyncConflict] = field(default_factory=list)


class WorkspaceSync:
    def __init__(self, sides: Sides, workspace_id: uuid.UUID) -> None:
        self.sides = sides
        self.workspace_id = workspace_id
        self.state = SyncState(sides.state_dir, workspace_id)
        self._pending: list[str] = []  # storage keys of pushed rows, uploaded before commit
        # Local writes wait until the end of a sync: SQLite holds its write lock from the first
        # write to the commit, and the job's progress goes to that same database meanwhile.
        self._local_ops: list[Callable[[Connection], object]] = []  # run for their effect
        self._removed: set[str] = set()  # rows removed in this sync, not to be copied back
        self._blocked: set[str] = set()  # rows of a clash, and the rows that hang on them

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
                self._in_step(f"workspaces:{row['id']}", row, version_of(row), version_of(row))
        self.state.linked = True
        self.state.save()
        return str(row["name"])

    def run(self, progress: Progress | None = None) -> SyncResult:
        if not self.state.linked:
            raise InvalidInput("This workspace is not on the server; publish it first.")
        result = SyncResult()
        tables = synced_tables()
        self._local_ops, self._blocked, self._removed = [], set(), set()
        for key in [k for k, c in self.state.conflicts.items() if conflict_kind(c) == CLASH]:
            del self.state.conflicts[key]  # found again below while they last
        with self._both() as (here, there):
            # Removals first, children first: a name purged on one side and made again there
            # is free before the new row comes, and no foreign key points at a row already gone.
            for table in reversed(tables):
                self._remove_gone(here, there, table, result)
            for index, table in enumerate(tables):
                if progress:
                    progress(index / (len(tables) + 1), f"records: {table.name}")
                self._sync_table(here, there, table, result)
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
        return [SyncConflict(c["table"], c["row_id"], c["mine"], c["theirs"], conflict_kind(c))
                for c in self.state.conflicts.values()]

    def resolve(self, row_id: str, keep: str) -> None:
        """``keep`` is "mine" (this studio's values go to the server) or "theirs"."""
        if keep not in ("mine", "theirs"):
            raise InvalidInput("Keep 'mine' or 'theirs'.")
        found = [k for k, c in self.state.conflicts.items() if c["row_id"] == row_id]
        if not found:
            raise NotFound(f"No open sync conflict for row '{row_id}'.")
        with self._both() as (here, there):
            pushed = settle.settle(here, there, self.state, self.workspace_id, found[0], keep)
            if pushed is not None:
                self._pushed(Base.metadata.tables[pushed[0]], pushed[1])
                self._upload_files()
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
        mine_rows = read_rows(here, table, self.workspace_id)  # removals here wait till the end
        for row_id in self._removed & mine_rows.keys():
            del mine_rows[row_id]
        their_rows = read_rows(there, table, self.workspace_id)

        def parents_first(row_id: str) -> tuple[bool, str]:  # jobs.parent_id points at jobs
            row = mine_rows.get(row_id) or their_rows.get(row_id) or {}
            return (row.get("parent_id") is not None, row_id)

        put_in_order(table, mine_rows, their_rows, self._local_ops.append, there)
        self._find_clashes(table, mine_rows, their_rows, result)
        for row_id in sorted(set(mine_rows) | set(their_rows), key=parents_first):
            mine, theirs = mine_rows.get(row_id), their_rows.get(row_id)
            if self._waits(table, row_id, mine or theirs or {}):
                continue
            if table.name == "jobs" and not settled(mine, theirs):
                continue
            if theirs is None:
                assert mine is not None
                self._sync_only_here(there, table, row_id, mine, result)
            elif mine is None:
                self._sync_only_there(table, row_id, theirs, result)
            else:
                self._sync_on_both(there, table, row_id, (mine, theirs), result)

    def _find_clashes(self, table: Table, mine_rows: Rows, their_rows: Rows,
                      result: SyncResult) -> None:
        if table.name == "workspaces":
            return
        only_here = {k: v for k, v in mine_rows.items() if k not in their_rows}
        only_there = {k: v for k, v in their_rows.items() if k not in mine_rows}
        for mine_id, theirs_id in find_clashes(table, only_here, only_there).items():
            mine, theirs = only_here[mine_id], only_there[theirs_id]
            if self._waits(table, mine_id, mine) or self._waits(table, theirs_id, theirs):
                continue  # its parent clashes: settled first, then this one shows
            record = clash_record(table, mine, theirs)
            self.state.conflicts[f"{table.name}:{mine_id}"] = record
            result.conflicts.append(SyncConflict(table.name, mine_id, record["mine"],
                                                 record["theirs"], CLASH))
            self._blocked |= {mine_id, theirs_id}

    def _waits(self, table: Table, row_id: str, row: dict[str, Any]) -> bool:
        """A row of a clash, or one that points at such a row, waits for the clash to settle."""
        if row_id in self._blocked or parents_of(table, row) & self._blocked:
            self._blocked.add(row_id)
            return True
        return False

    def _sync_only_here(self, there: Connection, table: Table, row_id: str,
                        mine: dict[str, Any], result: SyncResult) -> None:
        key = f"{table.name}:{row_id}"
        if key not in self.state.rows or self._changed_since(key, mine, side=0):
            self._push(there, table, key, mine, server_version=None, result=result)
        # else: removed on the server while it ran here (a job): removed here once it is done

    def _sync_only_there(self, table: Table, row_id: str, theirs: dict[str, Any],
                         result: SyncResult) -> None:
        key = f"{table.name}:{row_id}"
        if key not in self.state.rows or self._changed_since(key, theirs, side=1):
            self._pull(table, key, theirs, local_version=None, result=result)

    def _changed_since(self, key: str, row: dict[str, Any], *, side: int) -> bool:
        base = self.state.bases.get(key)
        if version_of(row) != self.state.rows[key][side]:
            return True
        return base is not None and bool(changed_fields(row, base))

    def _sync_on_both(self, there: Connection, table: Table, row_id: str,
                      pair: tuple[dict[str, Any], dict[str, Any]], result: SyncResult) -> None:
        mine, theirs = pair
        key = f"{table.name}:{row_id}"
        versions, base = self.state.rows.get(key), self.state.bases.get(key)
        if (base is not None and "version" in table.c and key not in self.state.conflicts
                and versions == [version_of(mine), version_of(theirs)]):
            return  # neither side wrote it since: no need to look at its fields
        if base is None and content(mine) == content(theirs):  # in step (or first seen so)
            self._in_step(key, mine, version_of(mine), version_of(theirs))
            return
        if base is not None:
            mine_changed, theirs_changed = changed_fields(mine, base), changed_fields(theirs, base)
        else:  # a state from before field digests, or the same row first seen now
            apart = differing(mine, theirs)
            mine_changed = apart if versions is None or version_of(mine) != versions[0] else set()
            theirs_changed = apart if versions is None or version_of(theirs) != versions[1] else set()
        plan = merge(mine, theirs, mine_changed=mine_changed, theirs_changed=theirs_changed)
        new_local, new_server = version_of(mine), version_of(theirs)
        if plan.to_server:
            new_server = write_row(there, table, stamped(theirs, plan.to_server, mine), exists=True,
                                   expected_version=version_of(theirs))
            if "storage_key" in plan.to_server:
                self._pushed(table, mine)
            result.pushed += 1
        if plan.to_local:
            new_local = self._later(table, stamped(mine, plan.to_local, theirs), exists=True,
                                    expected_version=version_of(mine))
            result.pulled += 1
        self.state.rows[key] = [new_local, new_server]
        self.state.bases[key] = next_base(base, {**mine, **plan.to_local}, plan.conflicts)
        self._note_conflict(table, row_id, (mine, theirs), plan.conflicts, result)

    def _note_conflict(self, table: Table, row_id: str, pair: tuple[dict[str, Any], dict[str, Any]],
                       names: tuple[str, ...], result: SyncResult) -> None:
        key = f"{table.name}:{row_id}"
        if not names:
            self.state.conflicts.pop(key, None)
            return
        a, b = ({name: plain(row.get(name)) for name in names} for row in pair)
        self.state.conflicts[key] = {"kind": FIELDS, "table": table.name, "row_id": row_id,
                                     "mine": a, "theirs": b}
        result.conflicts.append(SyncConflict(table.name, row_id, a, b, FIELDS))

    def _in_step(self, key: str, row: dict[str, Any], local: int, server: int) -> None:
        self.state.rows[key] = [local, server]
        self.state.bases[key] = digests(row)

    def _push(self, there: Connection, table: Table, key: str, mine: dict[str, Any], *,
              server_version: int | None, result: SyncResult) -> None:
        """This studio's row goes to the server: inserted when ``server_version`` is None."""
        new_server = write_row(there, table, mine, exists=server_version is not None,
                               expected_version=server_version)
        self._in_step(key, mine, version_of(mine), new_server)
        self._pushed(table, mine)
        result.pushed += 1

    def _pull(self, table: Table, key: str, theirs: dict[str, Any], *,
              local_version: int | None, result: SyncResult) -> None:
        """The server's row comes here (at the end of the sync): inserted when ``local_version``
        is None."""
        new_local = self._later(table, theirs, exists=local_version is not None,
                                expected_version=local_version)
        self._in_step(key, theirs, new_local, version_of(theirs))
        result.pulled += 1

    def _remove_gone(self, here: Connection, there: Connection, table: Table,
                     result: SyncResult) -> None:
        """A row synced before and now gone from one side (purged) goes from the other side too,
        unless it was changed there since (then the next sync copies it back)."""
        mine_rows = read_rows(here, table, self.workspace_id)
        their_rows = read_rows(there, table, self.workspace_id)
        prefix = f"{table.name}:"
        for key in list(self.state.rows):
            if not key.startswith(prefix):
                continue
            row_id = key[len(prefix):]
            mine, theirs = mine_rows.get(row_id), their_rows.get(row_id)
            if table.name == "jobs" and not settled(mine, theirs):
                continue
            if mine is None and theirs is None:
                self.state.forget(key)
            elif theirs is None and mine is not None and not self._changed_since(key, mine, side=0):
                self._local_ops.append(functools.partial(delete_row, table=table, row_id=mine["id"]))
                self.state.forget(key)
                self._removed.add(row_id)
                result.removed += 1
            elif mine is None and theirs is not None and not self._changed_since(key, theirs, side=1):
                there.execute(delete(table).where(table.c.id == theirs["id"]))
                self.state.forget(key)
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

