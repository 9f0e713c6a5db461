"""``api webhook add|list|remove|deliveries|retry``: URLs told of the studio's events, signed.

Each delivery is a plain JSON POST (n8n's Webhook node takes it as it is) with the headers
X-Studio-Event, X-Studio-Delivery and, with a secret, X-Studio-Signature: sha256=<HMAC-SHA256 hex
of the body>. The worker sends them and tries again after 10 s, 1 min, 5 min, 30 min and 2 h."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.webhooks.store import DeliveryInfo, WebhookInfo

EVENTS_HELP = "job.completed, job.failed, job.canceled, plan.item.ready"
_MAX_SECRET = 4096


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``webhook`` action group to ``api``."""
    hooks = add_group(actions, "webhook", "URLs the studio POSTs its events to (signed JSON)")
    add = add_action(hooks, "add", "send events to a URL", add_webhook, scoped=True)
    add.add_argument("url", help="http:// or https:// URL, e.g. an n8n Webhook node's production URL")
    add.add_argument("--events", required=True, metavar="LIST", help=f"comma-separated: {EVENTS_HELP}")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--secret", metavar="S", help="sign each body with S (X-Studio-Signature)")
    secret.add_argument("--secret-stdin", action="store_true",
                        help="read the signing secret from standard input (kept out of the shell history)")
    add_action(hooks, "list", "the workspace's webhooks", list_webhooks, scoped=True)
    remove = add_action(hooks, "remove", "stop sending to a webhook; its deliveries and secret go too",
                        remove_webhook, scoped=True)
    remove.add_argument("id", help="the webhook's id (or the start of it)")
    deliveries = add_action(hooks, "deliveries", "recent deliveries, newest first", list_deliveries,
                            scoped=True)
    deliveries.add_argument("--webhook", metavar="ID", help="one webhook's only")
    deliveries.add_argument("--failed", action="store_true", help="only those given up")
    retry = add_action(hooks, "retry", "send a failed delivery again", retry_delivery, scoped=True)
    retry.add_argument("id", help="the delivery's id (or the start of it)")


def add_webhook(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.webhooks import store
    workspace = workspace_of(studio, args)
    info = store.add_webhook(studio.db, studio.secrets, workspace.id, url=args.url,
                             events=args.events.split(","), secret=_secret(args))
    if args.json:
        print_json(_webhook_fields(info))
    else:
        say(f"webhook {info.id} sends {', '.join(info.events)} to {info.url}"
            + (" (signed)" if info.signed else ""))
    return EXIT_OK


def list_webhooks(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.webhooks import store
    found = store.list_webhooks(studio.db, workspace_of(studio, args).id)
    if args.json:
        print_json([_webhook_fields(info) for info in found])
        return EXIT_OK
    print_table(["id", "url", "events", "signed"],
                [[str(i.id), i.url, ",".join(i.events), "yes" if i.signed else "no"] for i in found],
                empty="no webhooks (add one with `api webhook add URL --events …`)")
    return EXIT_OK


def remove_webhook(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.webhooks import store
    workspace = workspace_of(studio, args)
    webhook_id = store.find_id(store.list_webhooks(studio.db, workspace.id), args.id, "webhook")
    store.remove_webhook(studio.db, studio.secrets, workspace.id, webhook_id)
    say(f"removed webhook {webhook_id}")
    return EXIT_OK


def list_deliveries(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.webhooks import store
    workspace = workspace_of(studio, args)
    webhook_id = (store.find_id(store.list_webhooks(studio.db, workspace.id), args.webhook, "webhook")
                  if args.webhook else None)
    found = store.list_deliveries(studio.db, workspace.id, webhook_id=webhook_id, failed_only=args.failed)
    if args.json:
        print_json([_delivery_fields(d) for d in found])
        return EXIT_OK
    print_table(["id", "event", "status", "tries", "answer", "when"],
                [[str(d.id), d.event, d.status, d.attempts, _answer(d), f"{d.created_at:%Y-%m-%d %H:%M:%S}"]
                 for d in found], empty="no deliveries")
    return EXIT_OK


def retry_delivery(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.webhooks import store
    workspace = workspace_of(studio, args)
    delivery_id = store.find_id(store.list_deliveries(studio.db, workspace.id, limit=500), args.id, "delivery")
    store.send_again(studio.db, workspace.id, delivery_id)
    say(f"delivery {delivery_id} will be sent again by the worker")
    return EXIT_OK


def _secret(args: argparse.Namespace) -> str | None:
    from studio.engine.secrets import one_line, value_problem
    if not args.secret_stdin:
        value = args.secret
    else:
        value = one_line(sys.stdin.read(_MAX_SECRET + 1)) if sys.stdin is not None else ""
        if len(value) > _MAX_SECRET:
            raise UsageError(f"The secret is longer than {_MAX_SECRET} characters; nothing was added.")
    if value is None:
        return None
    problem = value_problem(value)
    if problem:
        raise UsageError(f"The webhook was not added: a secret {problem}.")
    return str(value)


def _answer(delivery: DeliveryInfo) -> str:
    code = str(delivery.last_status) if delivery.last_status is not None else ""
    return " ".join(part for part in (code, delivery.last_error if delivery.status != "delivered" else "")
                    if part)[:80]


def _webhook_fields(info: WebhookInfo) -> dict[str, object]:
    return {"id": str(info.id), "url": info.url, "events": list(info.events), "signed": info.signed,
            "active": info.active, "created_at": info.created_at}


def _delivery_fields(d: DeliveryInfo) -> dict[str, object]:
    return {"id": str(d.id), "webhook_id": str(d.webhook_id), "url": d.url, "event": d.event,
            "event_id": d.event_id, "status": d.status, "attempts": d.attempts, "last_status": d.last_status,
            "last_error": d.last_error, "next_attempt_at": d.next_attempt_at, "delivered_at": d.delivered_at,
            "created_at": d.created_at}
