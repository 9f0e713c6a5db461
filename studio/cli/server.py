"""``server``: a team server (PostgreSQL, Redis, S3) for this studio.

connect|check|disconnect switch to it or back; grant|revoke make a workspace's own database
role; workspaces|publish|open|sync|conflicts|resolve move a workspace between a studio that
works offline (``connect --keep-local``) and the server.

Passwords never go on the command line's stored form: URLs may carry them for convenience, but
they are split off into the keyring at once; the S3 secret key is read from standard input
(or a prompt without echo, or $INFLUENCERAI_SECRET_SERVER_S3).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
import uuid
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_FAILED, EXIT_OK, Actions, UsageError, add_action, add_group, workspace_of
from studio.cli.output import print_json, say

if TYPE_CHECKING:
    from studio.engine.config import Settings
    from studio.engine.core import Studio
    from studio.engine.server.connect import Report, ServerTarget
    from studio.engine.sync.sides import Sides


def register(verbs: Actions) -> None:
    actions = add_group(verbs, "server", "connect this studio to a team server (PostgreSQL, Redis, S3)")
    _register_connect(actions)
    _register_roles(actions)
    _register_sync(actions)
    _register_conflicts(actions)
    add_action(actions, "disconnect", "back to solo mode (local database and queue); forgets the "
               "server's passwords", disconnect_server)


def _register_connect(actions: Actions) -> None:
    conn = add_action(actions, "connect", "check a server and switch this studio to it; the S3 "
                      "secret key is read from standard input", connect_server)
    conn.add_argument("--database", required=True, metavar="URL",
                      help="postgresql://user[:password]@host:5432/db (TLS: ?sslmode=verify-full"
                           "&sslrootcert=FILE)")
    conn.add_argument("--redis", required=True, metavar="URL",
                      help="redis://[user:password@]host:6379/0 (user desk on a desk, worker on a "
                           "GPU machine), or rediss:// for TLS (?ssl_ca_certs=FILE for a private CA)")
    conn.add_argument("--s3-endpoint", required=True, metavar="URL", help="http(s)://host:9000")
    conn.add_argument("--bucket", required=True)
    conn.add_argument("--access-key", required=True)
    conn.add_argument("--s3-ca-bundle", default="", metavar="FILE",
                      help="CA bundle for an https endpoint with a private CA")
    conn.add_argument("--workspace", metavar="NAME",
                      help="workspace whose S3 prefix the check writes to: one on the server (a "
                           "workspace role's own by default) or in this studio (the current one)")
    conn.add_argument("--keep-local", action="store_true",
                      help="keep working on the local database and queue; only publish and sync "
                           "workspaces with the server (works offline, syncs later)")
    add_action(actions, "check", "check the connected server: each service, versions, permissions",
               check_connected, scoped=True)


def _register_roles(actions: Actions) -> None:
    grant = add_action(actions, "grant", "make the workspace's own database role (row-level "
                       "security: it sees that workspace's rows only); its password is read from "
                       "standard input", grant_role, scoped=True)
    grant.set_defaults(revoke=False)
    revoke = add_action(actions, "revoke", "remove the workspace's database role", grant_role,
                        scoped=True)
    revoke.set_defaults(revoke=True)


def _register_sync(actions: Actions) -> None:
    add_action(actions, "workspaces", "the workspaces on the server", list_server_workspaces)
    publish = add_action(actions, "publish", "send a local workspace to the server (records, and "
                         "asset files to S3); a job with progress", publish_workspace, scoped=True)
    publish.add_argument("--no-wait", action="store_true", help="only queue the job; print its id")
    opened = add_action(actions, "open", "bring a server workspace to this studio (files come when "
                        "first needed); a job with progress", open_workspace)
    opened.add_argument("name", help="the workspace's name on the server")
    opened.add_argument("--no-wait", action="store_true", help="only queue the job; print its id")
    sync = add_action(actions, "sync", "sync a published or opened workspace both ways; a job "
                      "with progress", sync_workspace, scoped=True)
    sync.add_argument("--no-wait", action="store_true", help="only queue the job; print its id")


def _register_conflicts(actions: Actions) -> None:
    listed = add_action(actions, "conflicts", "rows changed here and on the server since the last "
                        "sync: both versions; --keep-mine/--keep-theirs ROW_ID settles one",
                        list_conflicts, scoped=True)
    keep = listed.add_mutually_exclusive_group()
    keep.add_argument("--keep-mine", metavar="ROW_ID", help="this studio's version goes to the server")
    keep.add_argument("--keep-theirs", metavar="ROW_ID", help="the server's version comes here")
    resolve = add_action(actions, "resolve", "settle a sync conflict by keeping one version",
                         resolve_conflict, scoped=True)
    resolve.add_argument("row_id", help="the row's id, as `server conflicts` shows it")
    resolve.add_argument("--keep", required=True, choices=("mine", "theirs"))


def connect_server(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.config import save_settings
    from studio.engine.server.connect import ServerTarget, connect
    target = ServerTarget(database_url=args.database, redis_url=args.redis,
                          s3_endpoint=args.s3_endpoint, s3_bucket=args.bucket,
                          s3_access_key=args.access_key, s3_secret_key=_s3_secret(),
                          s3_ca_bundle=args.s3_ca_bundle)
    report = connect(studio.settings, studio.secrets, target,
                     workspace_id=_checked_workspace(studio, target, args.workspace),
                     save=lambda new: save_settings(new, studio.paths.settings_file),
                     keep_local=args.keep_local)
    _print(report, args)
    if not report.ok:
        print("error: not connected; this studio's settings and local data are unchanged",
              file=sys.stderr)
        return EXIT_FAILED
    if args.keep_local:
        print(f"server remembered for publish and sync (bucket '{args.bucket}'); this studio "
              f"keeps its local database; passwords in the {studio.secrets.info().description}")
    else:
        print(f"connected: records on the server's PostgreSQL, jobs on its Redis, assets in "
              f"'{args.bucket}'; passwords in the {studio.secrets.info().description}")
    return EXIT_OK


def check_connected(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.server.connect import check_server, target_from_settings
    target = target_from_settings(studio.settings, studio.secrets)
    report = check_server(target, _checked_workspace(studio, target, args.workspace))
    _print(report, args)
    return EXIT_OK if report.ok else EXIT_FAILED


def _checked_workspace(studio: Studio, target: ServerTarget, name: str | None) -> uuid.UUID:
    """The workspace whose S3 prefix the check writes to: the server's of that name (or the one a
    workspace role sees), else this studio's."""
    from studio.engine.errors import NotFound
    from studio.engine.server.connect import server_workspace
    target.validate()
    found = server_workspace(target.database_url, name)
    if found is not None:
        return found
    try:
        return studio.workspace(name).id
    except NotFound:
        raise NotFound(f"No workspace named '{name}' on the server or in this studio.") from None


def grant_role(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.server.roles import drop_workspace_role, grant_workspace_role
    from studio.engine.urls import with_user
    if studio.settings.queue.backend != "redis" or not studio.settings.database.url:
        raise UsageError("This studio is not connected to a server; use `server connect` first.")
    workspace = studio.workspace(args.workspace)
    admin_url = studio.database_url
    if args.revoke:
        ended = drop_workspace_role(admin_url, workspace.id)
        say(f"removed the database role of workspace '{workspace.name}'; {ended} open "
            f"session(s) ended")
        return EXIT_OK
    password = _read_line("Password for the workspace's role (not shown): ")
    role = grant_workspace_role(admin_url, workspace.id, password)
    say(f"role '{role}' sees workspace '{workspace.name}' only; connect that studio with "
          f"--database {with_user(studio.settings.database.url, role)}")
    return EXIT_OK


def _sides(studio: Studio) -> Sides:
    from studio.engine.sync.sides import open_sides
    if not studio.settings.server.database_url:
        raise UsageError("This studio does not know a server; use `server connect` first.")
    if studio.settings.database.url:
        raise UsageError("This studio works on the server's database directly; there is "
                         "nothing to sync (connect with --keep-local to work offline).")
    return open_sides(studio.db, studio.paths, studio.settings, studio.secrets)


def list_server_workspaces(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.sync.sides import server_workspaces
    sides = _sides(studio)
    try:
        rows = server_workspaces(sides.server)
    finally:
        sides.server.dispose()
    if args.json:
        print_json([{"id": str(i), "name": n} for i, n in rows])
    else:
        for workspace_id, name in rows:
            say(f"{workspace_id}  {name}")
    return EXIT_OK


def publish_workspace(studio: Studio, args: argparse.Namespace) -> int:
    return _submit_sync(studio, args, workspace_of(studio, args).id, "publish")


def sync_workspace(studio: Studio, args: argparse.Namespace) -> int:
    return _submit_sync(studio, args, workspace_of(studio, args).id, "sync")


def open_workspace(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.errors import NotFound
    from studio.engine.sync.records import WorkspaceSync
    from studio.engine.sync.sides import server_workspaces
    sides = _sides(studio)
    try:
        found = [i for i, n in server_workspaces(sides.server) if n == args.name]
        if not found:
            raise NotFound(f"The server has no workspace named '{args.name}'.")
        WorkspaceSync(sides, found[0]).open_row()
    finally:
        sides.server.dispose()
    return _submit_sync(studio, args, found[0], "sync")


def _submit_sync(studio: Studio, args: argparse.Namespace, workspace_id: uuid.UUID, mode: str) -> int:
    from studio.cli.waiting import finish
    from studio.engine.sync.jobs import queue_sync
    _sides(studio).server.dispose()  # a plain error now beats a failed job later
    job = queue_sync(studio, workspace_id, mode)
    code = finish(studio, args, job, wait=not args.no_wait)
    if not args.no_wait and not args.json:
        result = studio.jobs.get(workspace_id, job.id).result or {}
        if result:
            print(f"pushed {result['pushed']}, pulled {result['pulled']}, removed "
                  f"{result['removed']}, files uploaded {result['uploaded']}")
            for conflict in result.get("conflicts", []):
                print(f"conflict: {conflict['table']} {conflict['row_id']}: mine "
                      f"{conflict['mine']} / theirs {conflict['theirs']} "
                      f"(server resolve {conflict['row_id']} --keep mine|theirs)")
    return code


def list_conflicts(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.sync.records import SyncState
    if args.keep_mine or args.keep_theirs:
        args.row_id, args.keep = args.keep_mine or args.keep_theirs, "mine" if args.keep_mine else "theirs"
        return resolve_conflict(studio, args)
    state = SyncState(studio.paths.data_dir / "sync", workspace_of(studio, args).id)
    conflicts = list(state.conflicts.values())
    if args.json:
        print_json(conflicts)
        return EXIT_OK
    if not conflicts:
        print("no sync conflicts")
    for c in conflicts:
        clash = " (made on both sides separately: keep one; the other's children join it)"
        print(f"{c['table']} {c['row_id']}{clash if c.get('kind') == 'clash' else ''}")
        for name in c["mine"]:
            print(f"  {name}:\n    mine:   {c['mine'][name]!r}\n    theirs: {c['theirs'][name]!r}")
    return EXIT_OK


def resolve_conflict(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.sync.records import WorkspaceSync
    sides = _sides(studio)
    try:
        WorkspaceSync(sides, workspace_of(studio, args).id).resolve(args.row_id, args.keep)
    finally:
        sides.server.dispose()
    print(f"kept {args.keep} for {args.row_id}")
    return EXIT_OK


def disconnect_server(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.server.connect import disconnect
    disconnect(studio.settings, studio.secrets, save=lambda new: _save(new, studio))
    print("disconnected: this studio uses its local database and queue again")
    return EXIT_OK


def _save(new: Settings, studio: Studio) -> None:
    from studio.engine.config import save_settings
    save_settings(new, studio.paths.settings_file)


def _print(report: Report, args: argparse.Namespace) -> None:
    if getattr(args, "json", False):
        print_json({"ok": report.ok, "checks": [
            {"service": c.service, "ok": c.ok, "version": c.version, "detail": c.detail}
            for c in report.checks]})
        return
    for line in report.lines():
        print(line)


def _s3_secret() -> str:
    from studio.engine.secrets import env_name
    from studio.engine.server.connect import SECRET_S3
    value = os.environ.get(env_name(SECRET_S3))
    return value or _read_line("S3 secret key (not shown): ")


def _read_line(prompt: str) -> str:
    """A terminal gets a prompt without echo; a pipe gives its first line."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")

