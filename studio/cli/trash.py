"""``trash list|restore|purge``: deleted content waits here; purging removes its files too."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.trash import TrashItem


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "trash", "restore or purge deleted content")
    add_action(actions, "list", "list what is in the trash", list_trash, scoped=True)
    restore_cmd = add_action(actions, "restore", "bring an item back", restore_item, scoped=True)
    restore_cmd.add_argument("id", help="id from `trash list` (a unique prefix is enough)")
    purge_cmd = add_action(actions, "purge", "delete for good, files included", purge_items, scoped=True)
    purge_cmd.add_argument("id", nargs="?")
    purge_cmd.add_argument("--all", action="store_true", help="empty the whole trash of the workspace")


def list_trash(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.trash import trash_items
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
    from studio.engine.trash import restore, trash_items
    workspace = workspace_of(studio, args)
    item = _resolve(trash_items(studio, workspace.id), args.id)
    restore(studio, workspace.id, item)
    _done(args, [item], "restored")
    return EXIT_OK


def purge_items(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.trash import purge, trash_items
    if bool(args.id) == bool(args.all):
        raise UsageError("Give either an id or --all.")
    workspace = workspace_of(studio, args)
    items = trash_items(studio, workspace.id)
    chosen = items if args.all else [_resolve(items, args.id)]
    purged = [item for item in chosen if purge(studio, workspace.id, item)]
    _done(args, purged, "purged")
    return EXIT_OK


def _resolve(items: list[TrashItem], text: str) -> TrashItem:
    from studio.engine.lookup import id_from_prefix
    chosen = id_from_prefix(ids=[i.id for i in items], text=text, what="item",
                            where="in the trash (see `trash list`)")
    return next(i for i in items if i.id == chosen)


def _done(args: argparse.Namespace, items: list[TrashItem], verb: str) -> None:
    if args.json:
        print_json({verb: items})
        return
    for item in items:
        say(f"{verb} {item.kind} '{item.name}' ({item.id})")
    if not items:
        print(f"nothing {verb}")
