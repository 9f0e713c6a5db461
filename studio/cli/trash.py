"""``trash list|restore|purge``: deleted content waits here; purging removes its files too."""
from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.output import print_json, print_table
from studio.engine.core import Studio
from studio.engine.db.models import TRASHABLE, Asset, Influencer
from studio.engine.db.repositories import Repository, label_of
from studio.engine.errors import NotFound
from studio.engine.storage.local import LocalStore


@dataclass(frozen=True, slots=True)
class TrashItem:
    kind: str
    id: uuid.UUID
    name: str
    deleted_at: object


def register(verbs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    actions = add_group(verbs, "trash", "restore or purge deleted content")
    add_action(actions, "list", "list what is in the trash", list_trash, scoped=True)
    restore = add_action(actions, "restore", "bring an item back", restore_item, scoped=True)
    restore.add_argument("id", help="id from `trash list` (a unique prefix is enough)")
    purge = add_action(actions, "purge", "delete for good, files included", purge_items, scoped=True)
    purge.add_argument("id", nargs="?")
    purge.add_argument("--all", action="store_true", help="empty the whole trash of the workspace")


def trash_items(studio: Studio, workspace_id: uuid.UUID) -> list[TrashItem]:
    with studio.db.session() as session:
        return [TrashItem(label_of(type(r)), r.id, _name(r), r.deleted_at)  # type: ignore[attr-defined]
                for r in Repository(session, workspace_id).trashed()]


def list_trash(studio: Studio, args: argparse.Namespace) -> int:
    workspace = workspace_of(studio, args)
    items = trash_items(studio, workspace.id)
    if args.json:
        print_json(items)
    else:
        print_table(["kind", "name", "id", "deleted"],
                    [[i.kind, i.name, i.id, i.deleted_at] for i in items],
                    empty=f"the trash of workspace '{workspace.name}' is empty")
    return EXIT_OK


def restore_item(studio: Studio, args: argparse.Namespace) -> int:
    workspace = workspace_of(studio, args)
    item = _resolve(trash_items(studio, workspace.id), args.id)
    with studio.db.session() as session:
        repo = Repository(session, workspace.id)
        repo.restore(repo.get(TRASHABLE[item.kind], item.id, include_deleted=True))  # type: ignore[type-var]
    _done(args, [item], "restored")
    return EXIT_OK


def purge_items(studio: Studio, args: argparse.Namespace) -> int:
    if bool(args.id) == bool(args.all):
        raise UsageError("Give either an id or --all.")
    workspace = workspace_of(studio, args)
    items = trash_items(studio, workspace.id)
    chosen = items if args.all else [_resolve(items, args.id)]
    purged = [item for item in chosen if purge(studio, workspace.id, item)]
    _done(args, purged, "purged")
    return EXIT_OK


def purge(studio: Studio, workspace_id: uuid.UUID, item: TrashItem) -> bool:
    """Deletes the record and its files; False when it was already gone (purged with its parent)."""
    keys: list[str] = []
    with studio.db.session() as session:
        repo = Repository(session, workspace_id)
        try:
            record = repo.get(TRASHABLE[item.kind], item.id, include_deleted=True)  # type: ignore[type-var]
        except NotFound:
            return False
        if getattr(record, "storage_key", None):
            keys.append(record.storage_key)  # type: ignore[attr-defined]
        if isinstance(record, Influencer):
            keys.extend(_drop_avatars(session, record))
        repo.purge(record)
    store = LocalStore(studio.paths.assets_dir)
    for key in keys:  # after the commit: a failed purge must not lose files still referenced
        store.delete(key)
    return True


def _drop_avatars(session: object, influencer: Influencer) -> list[str]:
    query = select(Asset).where(Asset.workspace_id == influencer.workspace_id,
                                Asset.influencer_id == influencer.id, Asset.kind == "avatar")
    assets = session.scalars(query).all()  # type: ignore[attr-defined]
    for asset in assets:
        session.delete(asset)  # type: ignore[attr-defined]
    return [a.storage_key for a in assets] + [f"avatars/{influencer.workspace_id}/{influencer.id}"]


def _resolve(items: list[TrashItem], text: str) -> TrashItem:
    text = text.strip().lower()
    matches = [i for i in items if str(i.id) == text] or [i for i in items if str(i.id).startswith(text)]
    if len(matches) == 1 and len(text) >= 4:
        return matches[0]
    if len(matches) > 1:
        raise UsageError(f"'{text}' matches {len(matches)} items in the trash; give more of the id.")
    raise NotFound(f"Nothing in the trash has the id '{text}' (see `trash list`).")


def _name(record: object) -> str:
    for attribute in ("name", "original_name", "topic", "storage_key"):
        value = getattr(record, attribute, "")
        if value:
            return str(value)
    return ""


def _done(args: argparse.Namespace, items: list[TrashItem], verb: str) -> None:
    if args.json:
        print_json({verb: items})
        return
    for item in items:
        print(f"{verb} {item.kind} '{item.name}' ({item.id})")
    if not items:
        print(f"nothing {verb}")
