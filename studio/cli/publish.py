"""``publish connect|accounts|disconnect|post|status``: posting plan items through the platforms'
official APIs (Instagram, TikTok, YouTube)."""
from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, add_action, add_group, workspace_of
from studio.cli.output import note, print_json, print_table, say
from studio.cli.waiting import exit_code, job_summary, wait_for_job
from studio.engine.publish.platform import PLATFORMS

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.db.models import Job, PublishAccount

ACCOUNT_FIELDS = ("platform", "account_id", "name", "scopes", "expires_at", "created_at")


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "publish", "post plan items to Instagram, TikTok and YouTube")
    connect = add_action(actions, "connect", "connect an account: signs in through the system browser",
                         connect_command, scoped=True)
    connect.add_argument("platform", choices=PLATFORMS)
    add_action(actions, "accounts", "the connected accounts", accounts_command, scoped=True)
    disconnect = add_action(actions, "disconnect", "revoke and forget an account", disconnect_command,
                            scoped=True)
    disconnect.add_argument("platform", choices=PLATFORMS)
    post = add_action(actions, "post", "post a produced item (a job per platform)", post_command, scoped=True)
    post.add_argument("item", metavar="ITEM", help="item id (a unique prefix is enough)")
    post.add_argument("--platform", action="append", choices=PLATFORMS, dest="platforms",
                      help="repeat for several (default: the item's own platform)")
    post.add_argument("--no-wait", action="store_true", help="only queue the job(s) and print their ids")
    status = add_action(actions, "status", "where an item was posted: status, link, error", status_command,
                        scoped=True)
    status.add_argument("item", metavar="ITEM")


def connect_command(studio: Studio, args: argparse.Namespace) -> int:
    import webbrowser

    from studio.engine.publish.clients import connect, display_name

    def open_browser(url: str) -> object:
        note(f"Opening {display_name(args.platform)}'s sign-in page in your browser; if none opens, "
             f"visit: {url}")
        return webbrowser.open(url)

    note(f"Connecting {display_name(args.platform)}: sign in and allow the studio to post; this waits "
         f"for the browser to come back to the studio.")
    account = connect(studio, workspace_of(studio, args).id, args.platform, open_browser=open_browser)
    if args.json:
        print_json(_account_fields(account))
    else:
        say(f"connected {display_name(account.platform)} as {account.name or account.account_id}"
            + (f" (token expires {account.expires_at:%Y-%m-%d})" if account.expires_at else ""))
    return EXIT_OK


def accounts_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.publish.clients import display_name
    from studio.engine.publish.service import accounts
    found = {a.platform: a for a in accounts(studio, workspace_of(studio, args).id)}
    if args.json:
        print_json([_account_fields(a) for a in found.values()])
        return EXIT_OK
    rows = []
    for platform in PLATFORMS:
        account = found.get(platform)
        rows.append([display_name(platform), account.name if account else "",
                     account.expires_at if account and account.expires_at else "",
                     account.created_at if account else "not connected"])
    print_table(["platform", "account", "expires", "connected"], rows)
    return EXIT_OK


def disconnect_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.publish.clients import disconnect, display_name
    revoked = disconnect(studio, workspace_of(studio, args).id, args.platform)
    shown = display_name(args.platform)
    if args.json:
        print_json({"platform": args.platform, "connected": False, "revoked": revoked})
    elif revoked:
        say(f"disconnected {shown}; its access was revoked")
    else:
        say(f"disconnected {shown}; {shown} offers no revoke here: remove the studio in {shown}'s own "
            f"settings to end its access")
    return EXIT_OK


def post_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans.service import find_item
    from studio.engine.publish.clients import platform_name
    from studio.engine.publish.service import submit_publish
    workspace = workspace_of(studio, args)
    item = find_item(studio, workspace.id, args.item)
    platforms = list(dict.fromkeys(args.platforms or [platform_name(item.platform)]))
    jobs = {p: submit_publish(studio, item.id, p) for p in platforms}
    if args.no_wait:
        return _queued(args, jobs)
    done = {p: wait_for_job(studio, workspace.id, job.id) if job else None for p, job in jobs.items()}
    if args.json:
        print_json({p: job_summary(job) if job else None for p, job in done.items()})
    codes = [_report(studio, workspace.id, item.id, p, job, quiet=args.json) for p, job in done.items()]
    return max(codes, default=EXIT_OK)


def _queued(args: argparse.Namespace, jobs: dict[str, Job | None]) -> int:
    if args.json:
        print_json({p: job_summary(job) if job else None for p, job in jobs.items()})
    for platform, job in jobs.items():
        if job is None:
            note(f"{platform}: already posted or being posted; nothing queued")
        elif not args.json:
            print(job.id)
    return EXIT_OK


def _report(studio: Studio, workspace_id: uuid.UUID, item_id: uuid.UUID, platform: str, job: Job | None, *,
            quiet: bool) -> int:
    """One line per platform: the post's link, or why there is none."""
    from studio.engine.publish.service import post_states
    states = post_states(studio, workspace_id, item_id)
    state = next((s for s in states if s.platform == platform), None)
    if job is not None and exit_code(job) != EXIT_OK:
        return exit_code(job)
    if not quiet and state is not None:
        say(f"{platform}: {state.status} {state.url}".rstrip())
    return EXIT_OK


def status_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans.service import find_item
    from studio.engine.publish.service import post_states
    workspace = workspace_of(studio, args)
    item = find_item(studio, workspace.id, args.item)
    states = post_states(studio, workspace.id, item.id)
    if args.json:
        print_json(states)
    else:
        print_table(["platform", "status", "url", "posted", "detail"],
                    [[s.platform, s.status, s.url, s.published_at or "", s.error or s.note] for s in states],
                    empty="not posted anywhere yet")
    return EXIT_OK


def _account_fields(account: PublishAccount) -> dict[str, object]:
    return {name: getattr(account, name) for name in ACCOUNT_FIELDS}
