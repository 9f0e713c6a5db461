"""What changed: every write through a session announces the rows it touched.

Engine operations do not call anything to announce a change: the session records the rows each
flush wrote (after the commit, to the in-process ``ChangeBus``) and writes one ``change_log`` row
per touched record in the same transaction, so another process (the app, a worker, the command
line, another desk) learns of it through the ``ChangeWatcher``. Job rows are not logged: they
change several times a second while a job runs, and the job hub reads the job table itself.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from studio.engine.db.models import ChangeRecord
from studio.engine.db.types import utcnow

log = logging.getLogger("studio.changes")


class Entity(StrEnum):
    WORKSPACE = "workspace"
    INFLUENCER = "influencer"
    DATASET = "dataset"
    IMAGE = "image"
    CAPTION = "caption"
    LORA = "lora"
    JOB = "job"
    ASSET = "asset"
    PLAN = "plan"
    PLAN_ITEM = "plan_item"
    SPEND = "spend"
    PUBLICATION = "publication"  # a plan item's post on one platform
    ACCOUNT = "account"  # a connected publishing account
    SCHEDULE = "schedule"  # an influencer's daily production schedule
    WEBHOOK = "webhook"  # webhooks and their deliveries
    SETTINGS = "settings"  # the settings file; no ids
    TEMPLATE = "template"  # the user's ComfyUI workflows folder; no ids


class Op(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


TABLE_ENTITIES: dict[str, Entity] = {
    "workspaces": Entity.WORKSPACE, "influencers": Entity.INFLUENCER, "datasets": Entity.DATASET,
    "dataset_images": Entity.IMAGE, "caption_batches": Entity.CAPTION, "lora_models": Entity.LORA,
    "jobs": Entity.JOB, "assets": Entity.ASSET, "content_plans": Entity.PLAN,
    "plan_items": Entity.PLAN_ITEM, "llm_calls": Entity.SPEND, "publications": Entity.PUBLICATION,
    "publish_accounts": Entity.ACCOUNT, "production_schedules": Entity.SCHEDULE,
    "webhooks": Entity.WEBHOOK, "webhook_deliveries": Entity.WEBHOOK,
}
UNLOGGED: frozenset[Entity] = frozenset({Entity.JOB})
MAX_LOGGED_IDS = 200  # beyond this a change is logged as "some rows of this kind"


@dataclass(frozen=True, slots=True)
class Change:
    """Rows of one kind changed in one workspace; no ids means "some rows of this kind"."""

    entity: Entity
    workspace_id: uuid.UUID | None
    ids: frozenset[uuid.UUID] = frozenset()
    op: Op = Op.UPDATED

    def touches(self, entity: Entity, workspace_id: uuid.UUID | None = None) -> bool:
        return self.entity is entity and (workspace_id is None or self.workspace_id in (None, workspace_id))


Listener = Callable[[Sequence[Change]], None]


@dataclass(slots=True)
class ChangeBus:
    """Delivers changes to listeners in this process, on the thread that committed them."""

    _listeners: list[Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return unsubscribe

    def publish(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(changes)
            except Exception:  # a listener's bug must not undo or fail the write that committed
                log.exception("a change listener failed")


def new_origin() -> str:
    """Names this process's writes in the change log, so its own watcher can skip them."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def merge(changes: Iterable[Change]) -> list[Change]:
    """One change per (entity, workspace, op), ids joined; order of first appearance kept."""
    merged: dict[tuple[Entity, uuid.UUID | None, Op], set[uuid.UUID]] = {}
    for change in changes:
        merged.setdefault((change.entity, change.workspace_id, change.op), set()).update(change.ids)
    return [Change(entity, workspace, frozenset(ids), op) for (entity, workspace, op), ids in merged.items()]


def track_changes(sessions: sessionmaker[Session], bus: ChangeBus, origin: str) -> None:
    """Makes every session of ``sessions`` record and announce what it writes."""
    event.listen(sessions, "after_flush", lambda session, _ctx: _record_flush(session, origin))
    event.listen(sessions, "do_orm_execute", _record_statement)
    event.listen(sessions, "after_commit", lambda session: bus.publish(merge(_pop(session))))
    event.listen(sessions, "after_soft_rollback", lambda session, _tx: _pop(session))


def announce(session: Session, changes: Iterable[Change], origin: str) -> None:
    """For writes that bypass the ORM (a sync's table copies): logged like any other change."""
    changes = list(changes)
    _pending(session).extend(changes)
    _log(session, changes, origin)


def _pending(session: Session) -> list[Change]:
    pending: list[Change] = session.info.setdefault("studio_changes", [])
    return pending


def _pop(session: Session) -> list[Change]:
    changes: list[Change] = session.info.pop("studio_changes", [])
    return changes


def _record_flush(session: Session, origin: str) -> None:
    found = [change for op, objects in ((Op.CREATED, session.new), (Op.UPDATED, session.dirty),
                                        (Op.DELETED, session.deleted))
             for change in _changes_of(objects, op)]
    if found:
        _pending(session).extend(found)
        _log(session, found, origin)


def _changes_of(objects: Iterable[Any], op: Op) -> Iterable[Change]:
    for obj in objects:
        entity = TABLE_ENTITIES.get(getattr(obj, "__tablename__", ""))
        if entity is None:
            continue
        row_id = getattr(obj, "id", None)
        workspace_id = obj.id if entity is Entity.WORKSPACE else getattr(obj, "workspace_id", None)
        ids = frozenset({row_id}) if isinstance(row_id, uuid.UUID) else frozenset()
        yield Change(entity, workspace_id, ids, op)


def _record_statement(state: ORMExecuteState) -> None:
    """Bulk UPDATEs on job rows (progress, cancel) are announced in this process as well."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    table = getattr(getattr(mapper, "local_table", None), "name", "")
    entity = TABLE_ENTITIES.get(table)
    if entity is not None:
        _pending(state.session).append(Change(entity, None, frozenset(), Op.UPDATED))


def _log(session: Session, changes: Sequence[Change], origin: str) -> None:
    """One row per kind of change in a flush: an import of 500 pictures is one row, not 500."""
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "workspace_id": change.workspace_id, "entity": str(change.entity),
             "entity_ids": [] if len(change.ids) > MAX_LOGGED_IDS else sorted(map(str, change.ids)),
             "op": str(change.op), "origin": origin, "at": now}
            for change in merge(changes)
            if change.entity not in UNLOGGED and change.workspace_id is not None]
    if rows:
        session.connection().execute(insert(ChangeRecord), rows)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What one notification carries: the changes heard together."""

    changes: tuple[Change, ...]

    def touches(self, *entities: Entity, workspace_id: uuid.UUID | None = None) -> bool:
        return any(change.touches(entity, workspace_id)
                   for change in self.changes for entity in entities)

    def ids(self, entity: Entity) -> set[uuid.UUID]:
        """Ids of changed rows of one kind; empty also when a change named no ids."""
        return {i for change in self.changes if change.entity is entity for i in change.ids}
