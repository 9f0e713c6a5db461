"""Hears what other processes changed: the change log since it last looked, and watched files.

    watcher = ChangeWatcher(studio.db, files={Entity.SETTINGS: studio.paths.settings_file})
    for change in watcher.poll(): ...   # a few times a second, off the UI thread

Rows are read by their time with an overlap, because on a server two transactions may commit in
the other order than their clocks say; rows already seen are skipped by id. The cursor follows
the newest row read, not this machine's clock, so a desk whose clock is off still hears them.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from studio.engine.db.changes import Change, Entity, Op, merge
from studio.engine.db.database import Database, rows_changed
from studio.engine.db.models import ChangeRecord
from studio.engine.db.types import utcnow
from studio.engine.fsutil import FileStamp

OVERLAP = timedelta(seconds=5)
KEEP = timedelta(days=1)
BATCH = 2000


class ChangeWatcher:
    def __init__(self, db: Database, *, files: Mapping[Entity, Path] | None = None) -> None:
        self.db = db
        self._files = dict(files or {})
        self._stamps = {entity: FileStamp.of(path) for entity, path in self._files.items()}
        self._started = utcnow()  # what was written before, the views read when they open
        self._cursor: datetime = self._started
        self._seen: dict[uuid.UUID, datetime] = {}

    def poll(self) -> list[Change]:
        """What changed since the last poll, made by other processes (this one's own writes
        reach its listeners through the database's ChangeBus at once)."""
        return merge([*self._read_log(), *self._read_files()])

    def prune(self, *, keep: timedelta = KEEP) -> int:
        """Removes log rows nobody needs any more; any process may do it, now and then."""
        with self.db.session() as session:
            return rows_changed(session.execute(delete(ChangeRecord).where(ChangeRecord.at < utcnow() - keep)))

    def _read_log(self) -> list[Change]:
        since = self._cursor - OVERLAP
        with self.db.session() as session:
            rows = session.execute(
                select(ChangeRecord.id, ChangeRecord.workspace_id, ChangeRecord.entity,
                       ChangeRecord.entity_ids, ChangeRecord.op, ChangeRecord.at)
                .where(ChangeRecord.at >= since, ChangeRecord.origin != self.db.origin)
                .order_by(ChangeRecord.at).limit(BATCH)).all()
        found = []
        for row_id, workspace_id, entity, ids, op, at in rows:
            self._cursor = max(self._cursor, at)
            if row_id in self._seen or at < self._started:
                continue
            self._seen[row_id] = at
            change = _change(entity, workspace_id, ids, op)
            if change is not None:
                found.append(change)
        self._seen = {key: at for key, at in self._seen.items() if at >= self._cursor - 2 * OVERLAP}
        return found

    def _read_files(self) -> list[Change]:
        found = []
        for entity, path in self._files.items():
            stamp = FileStamp.of(path)
            if stamp != self._stamps[entity]:
                self._stamps[entity] = stamp
                found.append(Change(entity, None))
        return found


def _change(entity: str, workspace_id: uuid.UUID, ids: list[str], op: str) -> Change | None:
    try:
        return Change(Entity(entity), workspace_id, frozenset(uuid.UUID(i) for i in ids), Op(op))
    except ValueError:  # written by a newer studio: a kind this one does not know
        return None
