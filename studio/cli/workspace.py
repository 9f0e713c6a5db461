"""``workspace list|create|use|rename``: the tenants of this data folder."""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import fields_of, print_json, print_table, say

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.db.quick_read import SoloProfile

FIELDS = ("id", "name", "description", "created_at")


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "workspace", "list, create, choose and rename workspaces")
    add_action(actions, "list", "list the workspaces (* marks the current one)", list_workspaces,
               quick=quick_list_workspaces)
    create = add_action(actions, "create", "create a workspace", create_workspace)
    create.add_argument("name")
    use = add_action(actions, "use", "make a workspace the current one", use_workspace)
    use.add_argument("name")
    rename = add_action(actions, "rename", "rename a workspace", rename_workspace)
    rename.add_argument("old")
    rename.add_argument("new")


def list_workspaces(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.lookup import current_workspace_name
    _print_workspaces(args, studio.workspaces(), current_workspace_name(studio))
    return EXIT_OK


def quick_list_workspaces(profile: SoloProfile, args: argparse.Namespace) -> int | None:
    """The same list from a solo studio's file, with neither SQLAlchemy nor the keyring loaded.

    The stored secrets are not read (it would load the keyring) to redact it: every field is a
    UUID, a timestamp, or a name or description a user of this studio typed, never text a server
    sent or a setting, so a stored secret is there only if someone typed it as a name. Secret-
    shaped text and INFLUENCERAI_SECRET_* values are still taken out and control characters
    escaped, as in all output."""
    from studio.engine.db.quick_read import solo_workspaces
    listing = solo_workspaces(profile)
    if listing is None:
        return None  # team mode, no database yet, a migration due, a damaged file: the full way
    _print_workspaces(args, listing.workspaces, listing.current)
    return EXIT_OK


def _print_workspaces(args: argparse.Namespace, workspaces: Sequence[Any], current: str | None) -> None:
    rows = [{**fields_of(w, FIELDS), "current": w.name == current} for w in workspaces]
    if args.json:
        print_json(rows)
    else:
        print_table(["", "name", "id", "created"],
                    [["*" if r["current"] else "", r["name"], r["id"], r["created_at"]] for r in rows],
                    empty="no workspaces yet; `workspace create NAME` makes one")


def create_workspace(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.db.repositories import Workspaces
    _admin_only(studio, "creates workspaces")
    with studio.db.session() as session:
        workspace = Workspaces(session).create(args.name)
    _report(args, workspace, f"created workspace '{workspace.name}'")
    return EXIT_OK


def use_workspace(studio: Studio, args: argparse.Namespace) -> int:
    workspace = studio.use_workspace(args.name)
    _report(args, workspace, f"now using workspace '{workspace.name}'")
    return EXIT_OK


def rename_workspace(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.db.repositories import Workspaces
    _admin_only(studio, "renames workspaces")
    with studio.db.session() as session:
        repo = Workspaces(session)
        workspace = repo.rename(repo.by_name(args.old), args.new)
    if studio.settings.general.current_workspace == args.old:
        studio.settings.general.current_workspace = workspace.name
        studio.save_settings()
    _report(args, workspace, f"renamed workspace '{args.old}' to '{workspace.name}'")
    return EXIT_OK


def _report(args: argparse.Namespace, workspace: object, message: str) -> None:
    if args.json:
        print_json(fields_of(workspace, FIELDS))
    else:
        say(message)


def _admin_only(studio: Studio, what: str) -> None:
    """Refused before any SQL, whatever the name: the server refuses it too (migration 0010), and
    an answer that differed for a name another workspace has would tell that it exists."""
    from studio.engine.server.roles import workspace_role_in  # psycopg only where it is needed
    role = workspace_role_in(studio.database_url)
    if role is not None:
        raise UsageError(f"On the team server only the team admin {what}; this studio connects "
                         f"as '{role}', the role of a single workspace.")
