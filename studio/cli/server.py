"""``server connect|check|disconnect``: point this studio at a team server (PostgreSQL, Redis, S3).

Passwords never go on the command line's stored form: URLs may carry them for convenience, but
they are split off into the keyring at once; the S3 secret key is read from standard input
(or a prompt without echo, or $INFLUENCERAI_SECRET_SERVER_S3).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from studio.cli.common import EXIT_FAILED, EXIT_OK, UsageError, add_action, add_group
from studio.cli.output import print_json
from studio.engine.config import Settings, save_settings
from studio.engine.core import Studio
from studio.engine.secrets import env_name
from studio.engine.server.connect import (SECRET_S3, Report, ServerTarget, check_server, connect,
                                          disconnect, target_from_settings)
from studio.engine.server.urls import with_user


def register(verbs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    actions = add_group(verbs, "server", "connect this studio to a team server (PostgreSQL, Redis, S3)")
    conn = add_action(actions, "connect", "check a server and switch this studio to it; the S3 "
                      "secret key is read from standard input", connect_server)
    conn.add_argument("--database", required=True, metavar="URL",
                      help="postgresql://user[:password]@host:5432/db (TLS: ?sslmode=verify-full"
                           "&sslrootcert=FILE)")
    conn.add_argument("--redis", required=True, metavar="URL",
                      help="redis://[:password@]host:6379/0, or rediss:// for TLS "
                           "(?ssl_ca_certs=FILE for a private CA)")
    conn.add_argument("--s3-endpoint", required=True, metavar="URL", help="http(s)://host:9000")
    conn.add_argument("--bucket", required=True)
    conn.add_argument("--access-key", required=True)
    conn.add_argument("--s3-ca-bundle", default="", metavar="FILE",
                      help="CA bundle for an https endpoint with a private CA")
    conn.add_argument("--workspace", metavar="NAME",
                      help="workspace whose S3 prefix the check writes to (default: the current one)")
    conn.add_argument("--keep-local", action="store_true",
                      help="keep working on the local database and queue; only publish and sync "
                           "workspaces with the server (works offline, syncs later)")
    add_action(actions, "check", "check the connected server: each service, versions, permissions",
               check_connected, scoped=True)
    grant = add_action(actions, "grant", "make the workspace's own database role (row-level "
                       "security: it sees that workspace's rows only); its password is read from "
                       "standard input", grant_role, scoped=True)
    grant.set_defaults(revoke=False)
    revoke = add_action(actions, "revoke", "remove the workspace's database role", grant_role,
                        scoped=True)
    revoke.set_defaults(revoke=True)
    add_action(actions, "disconnect", "back to solo mode (local database and queue); forgets the "
               "server's passwords", disconnect_server)


def connect_server(studio: Studio, args: argparse.Namespace) -> int:
    target = ServerTarget(database_url=args.database, redis_url=args.redis,
                          s3_endpoint=args.s3_endpoint, s3_bucket=args.bucket,
                          s3_access_key=args.access_key, s3_secret_key=_s3_secret(),
                          s3_ca_bundle=args.s3_ca_bundle)
    workspace = studio.workspace(args.workspace)
    report = connect(studio.settings, studio.secrets, target, workspace_id=workspace.id,
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
    target = target_from_settings(studio.settings, studio.secrets)
    report = check_server(target, studio.workspace(args.workspace).id)
    _print(report, args)
    return EXIT_OK if report.ok else EXIT_FAILED


def grant_role(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.server.roles import drop_workspace_role, grant_workspace_role
    if studio.settings.queue.backend != "redis" or not studio.settings.database.url:
        raise UsageError("This studio is not connected to a server; use `server connect` first.")
    workspace = studio.workspace(args.workspace)
    admin_url = studio.database_url
    if args.revoke:
        drop_workspace_role(admin_url, workspace.id)
        print(f"removed the database role of workspace '{workspace.name}'")
        return EXIT_OK
    password = _read_line("Password for the workspace's role (not shown): ")
    role = grant_workspace_role(admin_url, workspace.id, password)
    print(f"role '{role}' sees workspace '{workspace.name}' only; connect that studio with "
          f"--database {with_user(studio.settings.database.url, role)}")
    return EXIT_OK


def disconnect_server(studio: Studio, args: argparse.Namespace) -> int:
    disconnect(studio.settings, studio.secrets, save=lambda new: _save(new, studio))
    print("disconnected: this studio uses its local database and queue again")
    return EXIT_OK


def _save(new: Settings, studio: Studio) -> None:
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
    value = os.environ.get(env_name(SECRET_S3))
    return value or _read_line("S3 secret key (not shown): ")


def _read_line(prompt: str) -> str:
    """A terminal gets a prompt without echo; a pipe gives its first line."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")

