"""``plan schedule set|list|remove``: each influencer's daily run, which plans tomorrow's posts.

The worker acts on them (its minutely run); these verbs only write and read the schedules.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, add_action, add_group, workspace_of
from studio.cli.influencer import find_influencer
from studio.cli.output import print_json, print_table
from studio.engine.plans.schema import PLATFORMS

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.pipelines.daily_plans import ScheduleView


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``schedule`` action group to ``plan``."""
    verbs = add_group(actions, "schedule", "daily schedules: at a set hour the worker plans "
                      "tomorrow's posts for an influencer")
    setting = add_action(verbs, "set", "create or change an influencer's daily schedule", set_command,
                         scoped=True)
    setting.add_argument("--influencer", required=True, metavar="NAME")
    setting.add_argument("--at", metavar="HH:MM", help="local time of day (new schedules: 09:00)")
    setting.add_argument("--posts", type=int, metavar="N", help="posts per day, 1 to 4 (new: 1)")
    setting.add_argument("--platforms", metavar="LIST",
                         help=f"comma-separated: {','.join(PLATFORMS)} (new: instagram)")
    setting.add_argument("--auto-approve", action=argparse.BooleanOptionalAction, default=None,
                         help="approve the planned posts at once, so they are made and posted "
                              "without a look (new: no)")
    setting.add_argument("--off", action="store_true", help="keep the schedule but do not run it")
    add_action(verbs, "list", "every daily schedule and what its last run did", list_command,
               scoped=True)
    removing = add_action(verbs, "remove", "delete an influencer's daily schedule", remove_command,
                          scoped=True)
    removing.add_argument("--influencer", required=True, metavar="NAME")


def set_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.pipelines.daily_plans import ScheduleChange, schedule_view, set_schedule
    workspace, influencer = find_influencer(studio, args, args.influencer)
    platforms = [p for p in args.platforms.split(",") if p.strip()] if args.platforms is not None else None
    change = ScheduleChange(at=args.at, posts_per_day=args.posts, platforms=platforms,
                            auto_approve=args.auto_approve, enabled=not args.off)
    set_schedule(studio, workspace.id, influencer.id, change)
    view = schedule_view(studio, workspace.id, influencer.id)
    assert view is not None  # just written
    if args.json:
        print_json(_fields(view))
    else:
        print(f"{view.influencer}: {_summary(view)}")
    return EXIT_OK


def list_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.pipelines.daily_plans import list_schedules
    views = list_schedules(studio, workspace_of(studio, args).id)
    if args.json:
        print_json([_fields(v) for v in views])
        return EXIT_OK
    print_table(["influencer", "at", "posts", "platforms", "approve", "state", "last run"],
                [[v.influencer, v.at, v.posts_per_day, ",".join(v.platforms),
                  "auto" if v.auto_approve else "by hand", "on" if v.enabled else "off",
                  v.last_run] for v in views], empty="no daily schedules")
    return EXIT_OK


def remove_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.pipelines.daily_plans import remove_schedule
    workspace, influencer = find_influencer(studio, args, args.influencer)
    remove_schedule(studio, workspace.id, influencer.id)
    print(f"{influencer.name}: daily schedule removed")
    return EXIT_OK


def _summary(view: ScheduleView) -> str:
    approve = "approved at once" if view.auto_approve else "for approval"
    state = "" if view.enabled else " (off)"
    noun = "post" if view.posts_per_day == 1 else "posts"
    return (f"every day at {view.at}, {view.posts_per_day} {noun} for tomorrow on "
            f"{', '.join(view.platforms)}, {approve}{state}")


def _fields(view: ScheduleView) -> dict[str, object]:
    return {"id": view.id, "influencer": view.influencer, "at": view.at,
            "posts_per_day": view.posts_per_day, "platforms": list(view.platforms),
            "auto_approve": view.auto_approve, "enabled": view.enabled, "last_slot": view.last_slot,
            "last_job": view.last_job.id if view.last_job else None,
            "last_status": view.last_job.status if view.last_job else None,
            "last_error": view.last_job.error if view.last_job else ""}
