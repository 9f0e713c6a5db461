"""``api serve`` and ``api token create|list|revoke``: the local HTTP API and its bearer tokens.
``api webhook …`` comes from api_webhook."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio.cli import api_webhook
from studio.cli.common import EXIT_OK, add_action, add_group, workspace_of
from studio.cli.output import note, print_json, print_table, say

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "api", "the local HTTP API: serve it, its tokens and webhooks")
    serve = add_action(actions, "serve", "serve the HTTP API until Ctrl-C (docs at /docs)", serve_api)
    serve.add_argument("--host", help="address to listen on (default: settings api.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: settings api.port, 8765; 0: a free one)")
    serve.add_argument("--insecure", action="store_true",
                       help="allow plain HTTP on a non-loopback address (no TLS files set)")
    _register_tokens(actions)
    api_webhook.register(actions)


def _register_tokens(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = add_group(actions, "token", "bearer tokens for the API, one workspace each")
    create = add_action(tokens, "create", "make a token for a workspace (shown once)", create_token,
                        scoped=True)
    create.add_argument("name", help="what the token is for, e.g. n8n")
    create.add_argument("--read-only", action="store_true", help="the token can read but not change")
    add_action(tokens, "list", "list the workspace's tokens (never their values)", list_tokens, scoped=True)
    revoke = add_action(tokens, "revoke", "delete a token; requests with it get 401 from then on",
                        revoke_token, scoped=True)
    revoke.add_argument("name")


def serve_api(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.api.serve import address, bind, insecure_warning, plan_for, serve
    plan = plan_for(studio, host=args.host, port=args.port, insecure=args.insecure)
    warning = insecure_warning(plan)
    if warning:
        note(warning)
    sock = bind(plan)
    print(f"API on {address(plan, sock)} (docs at /docs)", flush=True)
    serve(studio, plan, sock)
    note("API stopped")
    return EXIT_OK


def create_token(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.api import tokens
    workspace = workspace_of(studio, args)
    token = tokens.create_token(studio.db, workspace.id, args.name, read_only=args.read_only)
    if args.json:
        print_json({"name": args.name.strip(), "workspace": workspace.name, "read_only": args.read_only,
                    "token": token})
    else:
        print(token)
        note(f"token '{args.name.strip()}' for workspace '{workspace.name}'"
             f"{' (read-only)' if args.read_only else ''}: shown only now, keep it somewhere safe")
    return EXIT_OK


def list_tokens(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.api import tokens
    workspace = workspace_of(studio, args)
    rows = tokens.list_tokens(studio.db, workspace.id)
    if args.json:
        print_json([{"name": t.name, "workspace": workspace.name, "read_only": t.read_only,
                     "created_at": t.created_at, "last_used_at": t.last_used_at} for t in rows])
    else:
        print_table(["name", "access", "created", "last used"],
                    [[t.name, "read-only" if t.read_only else "read-write", t.created_at,
                      t.last_used_at or "never"] for t in rows],
                    empty=f"no API tokens in workspace '{workspace.name}'")
    return EXIT_OK


def revoke_token(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.api import tokens
    workspace = workspace_of(studio, args)
    tokens.revoke_token(studio.db, workspace.id, args.name)
    if args.json:
        print_json({"name": args.name, "workspace": workspace.name, "revoked": True})
    else:
        say(f"revoked token '{args.name}' of workspace '{workspace.name}'")
    return EXIT_OK
