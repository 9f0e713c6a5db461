"""The trash: deleted content waits here until restored or purged; purging removes its files."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.engine.core import Studio
from studio.engine.db.models import TRASHABLE, Asset, DatasetImage, Influencer, LoraModel
from studio.engine.db.repositories import Repository, label_of
from studio.engine.errors import NotFound
from studio.engine.storage.local import LocalStore


@dataclass(frozen=True, slots=True)
class TrashItem:
    kind: str
    id: uuid.UUID
    name: str
    deleted_at: datetime | None


def trash_items(studio: Studio, workspace_id: uuid.UUID) -> list[TrashItem]:
    with studio.db.session() as session:
        return [TrashItem(label_of(type(r)), r.id, _name(r), r.deleted_at)
                for r in Repository(session, workspace_id).trashed()]


def restore(studio: Studio, workspace_id: uuid.UUID, item: TrashItem) -> None:
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        repo.restore(repo.get(TRASHABLE[item.kind], item.id, include_deleted=True))


def purge(studio: Studio, workspace_id: uuid.UUID, item: TrashItem) -> bool:
    """Deletes the record and its files; False when it was already gone (purged with its parent)."""
    keys: list[str] = []
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        try:
            record = repo.get(TRASHABLE[item.kind], item.id, include_deleted=True)
        except NotFound:
            return False
        if isinstance(record, Asset | DatasetImage | LoraModel):
            keys.append(record.storage_key)
        if isinstance(record, Influencer):
            keys.extend(_drop_avatars(session, record))
        repo.purge(record)
    store = LocalStore(studio.paths.assets_dir)
    for key in keys:  # after the commit: a failed purge must not lose files still referenced
        store.delete(key)
    return True


def _drop_avatars(session: Session, influencer: Influencer) -> list[str]:
    query = select(Asset).where(Asset.workspace_id == influencer.workspace_id,
                                Asset.influencer_id == influencer.id, Asset.kind == "avatar")
    assets = session.scalars(query).all()
    for asset in assets:
        session.delete(asset)
    return [a.storage_key for a in assets] + [f"avatars/{influencer.workspace_id}/{influencer.id}"]


def _name(record: object) -> str:
    for attribute in ("name", "original_name", "topic", "storage_key"):
        value = getattr(record, attribute, "")
        if value:
            return str(value)
    return ""
