"""Workspace-scoped data access. A row of another workspace answers "not found", never the row."""
from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from studio.engine.db.models import TRASHABLE, Content, Scoped, Trashable, Workspace
from studio.engine.db.types import utcnow
from studio.engine.errors import Conflict, InvalidInput, NotFound

T = TypeVar("T", bound=Scoped)

_LABELS = {cls: label for label, cls in TRASHABLE.items()}


def label_of(model: type[Any]) -> str:
    return _LABELS.get(model, model.__name__.lower())


def as_uuid(value: uuid.UUID | str, *, what: str = "record") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(f"No {what} with id '{value}'.") from exc


class Workspaces:
    """The tenants themselves; not scoped."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self) -> Sequence[Workspace]:
        return self.session.scalars(select(Workspace).order_by(Workspace.name)).all()

    def get(self, workspace_id: uuid.UUID | str) -> Workspace:
        found = self.session.get(Workspace, as_uuid(workspace_id, what="workspace"))
        if found is None:
            raise NotFound(f"No workspace with id '{workspace_id}'.")
        return found

    def by_name(self, name: str) -> Workspace:
        found = self.session.scalar(select(Workspace).where(Workspace.name == name))
        if found is None:
            raise NotFound(f"No workspace named '{name}'.")
        return found

    def create(self, name: str, *, description: str = "") -> Workspace:
        name = clean_name(name, what="workspace")
        if self.session.scalar(select(Workspace.id).where(Workspace.name == name)) is not None:
            raise Conflict(f"A workspace named '{name}' already exists.")
        workspace = Workspace(name=name, description=description)
        self.session.add(workspace)
        _flush(self.session, what=f"workspace '{name}'")
        return workspace

    def rename(self, workspace: Workspace, name: str) -> Workspace:
        name = clean_name(name, what="workspace")
        if name != workspace.name and self.session.scalar(
                select(Workspace.id).where(Workspace.name == name)) is not None:
            raise Conflict(f"A workspace named '{name}' already exists.")
        workspace.name = name
        _flush(self.session, what=f"workspace '{name}'")
        return workspace


class Repository:
    """All reads and writes of one workspace's rows go through here."""

    def __init__(self, session: Session, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def get(self, model: type[T], record_id: uuid.UUID | str, *, include_deleted: bool = False) -> T:
        what = label_of(model)
        found = self.session.get(model, as_uuid(record_id, what=what))
        if found is None or found.workspace_id != self.workspace_id:
            raise NotFound(f"No {what} with id '{record_id}' in this workspace.")
        if not include_deleted and isinstance(found, Trashable) and found.deleted_at is not None:
            raise NotFound(f"The {what} '{record_id}' is in the trash.")
        return found

    def find(self, model: type[T], **where: Any) -> T | None:
        query = self._select(model).filter_by(**where)
        return self.session.scalars(query).first()

    def list(self, model: type[T], *, order_by: Any = None, **where: Any) -> Sequence[T]:
        query = self._select(model).filter_by(**where)
        query = query.order_by(order_by if order_by is not None else model.created_at)
        return self.session.scalars(query).all()

    def count(self, model: type[T], **where: Any) -> int:
        query = select(func.count()).select_from(model).where(model.workspace_id == self.workspace_id)
        if issubclass(model, Trashable):
            query = query.where(model.deleted_at.is_(None))
        return int(self.session.scalar(query.filter_by(**where)) or 0)

    def add(self, record: T) -> T:
        record.workspace_id = self.workspace_id
        self.session.add(record)
        _flush(self.session, what=label_of(type(record)))
        return record

    def add_all(self, records: Sequence[T]) -> None:
        """Adds rows of one kind in one flush (one batch of INSERTs, not a round per row); a
        conflict in any of them adds none."""
        for record in records:
            record.workspace_id = self.workspace_id
        self.session.add_all(records)
        if records:
            _flush(self.session, what=label_of(type(records[0])))

    def update(self, record: T, *, expected_version: int | None = None, **fields: Any) -> T:
        """Changes fields; ``expected_version`` is the version the caller's edit started from."""
        if expected_version is not None and record.version != expected_version:
            raise Conflict(f"This {label_of(type(record))} was changed elsewhere (version "
                           f"{record.version}, your edit started from {expected_version}). "
                           "Reload it and apply your change again.")
        for name, value in fields.items():
            if not hasattr(record, name) or name in ("id", "workspace_id", "version"):
                raise InvalidInput(f"'{name}' is not a field that can be changed.")
            setattr(record, name, value)
        _flush(self.session, what=label_of(type(record)))
        return record

    def trash(self, record: T) -> T:
        if not isinstance(record, Trashable):
            raise InvalidInput(f"A {label_of(type(record))} cannot be moved to the trash.")
        record.deleted_at = utcnow()
        _flush(self.session, what=label_of(type(record)))
        return record

    def restore(self, record: T) -> T:
        if not isinstance(record, Trashable) or record.deleted_at is None:
            raise InvalidInput(f"This {label_of(type(record))} is not in the trash.")
        record.deleted_at = None
        _flush(self.session, what=label_of(type(record)))
        return record

    def trashed(self) -> builtins.list[Content]:  # the method list() hides the builtin here
        rows: list[Content] = []
        for model in TRASHABLE.values():
            query = select(model).where(model.workspace_id == self.workspace_id,
                                        model.deleted_at.is_not(None))
            rows.extend(self.session.scalars(query).all())
        return sorted(rows, key=lambda r: r.deleted_at or utcnow(), reverse=True)

    def purge(self, record: T) -> None:
        if not isinstance(record, Trashable) or record.deleted_at is None:
            raise InvalidInput(f"Only items in the trash can be purged; move this "
                               f"{label_of(type(record))} to the trash first.")
        self.session.delete(record)
        _flush(self.session, what=label_of(type(record)))

    def _select(self, model: type[T]) -> Any:
        query = select(model).where(model.workspace_id == self.workspace_id)
        if issubclass(model, Trashable):
            query = query.where(model.deleted_at.is_(None))
        return query


def clean_name(name: str, *, what: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(f"A {what} needs a name.")
    if len(name) > 120:
        raise InvalidInput(f"A {what} name can be at most 120 characters.")
    return name


def _flush(session: Session, *, what: str) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict(f"This {what} was changed elsewhere at the same time; reload and try again.") from exc
    except IntegrityError as exc:
        session.rollback()
        detail = str(exc.orig).splitlines()[0] if exc.orig else "constraint failed"
        if "unique" in detail.lower() or "duplicate" in detail.lower():
            raise Conflict(f"This {what} conflicts with one that already exists ({detail}).") from exc
        raise InvalidInput(f"This {what} refers to something that does not exist ({detail}).") from exc
