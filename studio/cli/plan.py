"""``plan generate|list|show|edit|approve|regenerate``: content plans written by an LLM.
``plan schedule …`` comes from plan_schedule."""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from studio.cli import plan_schedule
from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.influencer import find_influencer
from studio.cli.output import note, print_fields, print_json, print_table, say
from studio.cli.waiting import exit_code, finish, job_summary, wait_for_job
from studio.engine.jobs.status import JobStatus
from studio.engine.plans.schema import EDITABLE, PLATFORMS

if TYPE_CHECKING:
    from studio.engine.core import Studio
    from studio.engine.db.models import Job, PlanItem

ITEM_FIELDS = ("id", "plan_id", "scheduled_at", "platform", "status", "topic", "hook", "caption",
               "hashtags", "image_prompt", "video_prompt", "subtitle_text", "version")


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "plan", "content plans: posts over a date range written by an LLM")
    gen = add_action(actions, "generate", "plan posts for an influencer (a job)", generate,
                     scoped=True)
    gen.add_argument("--influencer", required=True, metavar="NAME")
    gen.add_argument("--from", dest="start", required=True, metavar="DATE",
                     help="first day, YYYY-MM-DD (or today, tomorrow)")
    gen.add_argument("--days", type=int, required=True, metavar="N")
    gen.add_argument("--platform", action="append", choices=PLATFORMS, dest="platforms",
                     help="repeat for several (default: instagram)")
    gen.add_argument("--per-day", type=int, default=1, metavar="N", help="posts per day (default 1)")
    gen.add_argument("--model", help="model id (default: settings llm.plan_model, else llm.model)")
    gen.add_argument("--brief", default="", help="extra instructions for the whole plan")
    _job_options(gen)
    listing = add_action(actions, "list", "list plans, or the items of one plan", list_command,
                         scoped=True)
    listing.add_argument("--influencer", metavar="NAME")
    listing.add_argument("--plan", metavar="ID", help="show this plan's items (an id prefix is enough)")
    show = add_action(actions, "show", "every field of one item", show_item, scoped=True)
    show.add_argument("item", metavar="ITEM", help="item id (a unique prefix is enough)")
    edit = add_action(actions, "edit", "change fields of an item by hand", edit_item, scoped=True)
    edit.add_argument("item", metavar="ITEM")
    edit.add_argument("--set", action="append", required=True, metavar="FIELD=VALUE",
                      help=f"repeatable; fields: {', '.join(EDITABLE)}")
    edit.add_argument("--version", type=int, help="fail if the item changed since this version")
    approve = add_action(actions, "approve", "approve items (or --undo: back to draft)", approve_items,
                         scoped=True)
    approve.add_argument("items", nargs="*", metavar="ITEM")
    approve.add_argument("--plan", metavar="ID", help="every item of this plan")
    approve.add_argument("--undo", action="store_true", help="set the items back to draft")
    regen = add_action(actions, "regenerate", "write one item anew (a job)", regenerate,
                       scoped=True)
    regen.add_argument("item", metavar="ITEM")
    regen.add_argument("--instruction", default="", help="what to change, e.g. 'an evening post'")
    regen.add_argument("--model", help="model id (default: as for generate)")
    _job_options(regen)
    _register_run(actions)
    plan_schedule.register(actions)


def _register_run(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = add_action(actions, "run", "produce an approved item: picture, clip, export, publish folder "
                     "(a job)", run_item, scoped=True)
    run.add_argument("item", metavar="ITEM")
    run.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")


def run_item(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.pipelines.service import pipeline_status, submit_pipeline
    from studio.engine.plans import service
    workspace = workspace_of(studio, args)
    item = service.find_item(studio, workspace.id, args.item)
    job = submit_pipeline(studio, workspace.id, item.id)
    code = finish(studio, args, job, wait=not args.no_wait)
    if not args.no_wait and not args.json:
        status = pipeline_status(studio, workspace.id, item.id)
        for step in status.steps:
            note(f"{step.name:8} {step.status:8} {step.detail}")
        if status.folder is not None:
            print(status.folder)
    return code


def _job_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="ask the model even when the same request was answered before")
    parser.add_argument("--no-wait", action="store_true", help="only queue the job and print its id")


def generate(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans import service
    workspace, influencer = find_influencer(studio, args, args.influencer)
    job = service.submit_generate_plan(
        studio, workspace.id, influencer, _day(args.start), args.days,
        platforms=args.platforms or ("instagram",), per_day=args.per_day, model=args.model,
        brief=args.brief, use_cache=not args.no_cache)
    return _finish(studio, args, job, lambda done: _show_plan(studio, done))


def regenerate(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans import service
    workspace = workspace_of(studio, args)
    item = service.find_item(studio, workspace.id, args.item)
    job = service.submit_regenerate_item(studio, workspace.id, item, instruction=args.instruction,
                                         model=args.model, use_cache=not args.no_cache)
    return _finish(studio, args, job,
                   lambda done: _print_item(service.find_item(studio, workspace.id, args.item)))


def list_command(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans import service
    workspace = workspace_of(studio, args)
    if args.plan:
        plan = service.find_plan(studio, workspace.id, args.plan)
        items = service.list_items(studio, workspace.id, plan.id)
        if args.json:
            print_json([_item_fields(i) for i in items])
        else:
            _items_table(items)
        return EXIT_OK
    influencer_id = find_influencer(studio, args, args.influencer)[1].id if args.influencer else None
    plans = service.list_plans(studio, workspace.id, influencer_id)
    if args.json:
        print_json([{"id": s.plan.id, "name": s.plan.name, "influencer": s.influencer,
                     "start_date": s.plan.start_date, "end_date": s.plan.end_date,
                     "status": s.plan.status, "items": s.items, "approved": s.approved}
                    for s in plans])
    else:
        print_table(["id", "influencer", "from", "to", "items", "approved"],
                    [[_short(s.plan.id), s.influencer, s.plan.start_date, s.plan.end_date, s.items,
                      s.approved] for s in plans], empty="no plans")
    return EXIT_OK


def show_item(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans import service
    item = service.find_item(studio, workspace_of(studio, args).id, args.item)
    if args.json:
        print_json(_item_fields(item))
    else:
        _print_item(item)
    return EXIT_OK


def edit_item(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans import service
    changes = {}
    for pair in args.set:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"'{pair}' is not FIELD=VALUE.")
        changes[name.strip()] = value
    workspace = workspace_of(studio, args)
    item = service.find_item(studio, workspace.id, args.item)
    edited = service.edit_item(studio, workspace.id, item.id, changes,
                               expected_version=args.version)
    if args.json:
        print_json(_item_fields(edited))
    else:
        print(f"edited item {_short(edited.id)} (version {edited.version})")
    return EXIT_OK


def approve_items(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.plans import service
    workspace = workspace_of(studio, args)
    ids = [service.find_item(studio, workspace.id, ref).id for ref in args.items]
    if args.plan:
        plan = service.find_plan(studio, workspace.id, args.plan)
        ids += [i.id for i in service.list_items(studio, workspace.id, plan.id)]
    if not ids:
        raise UsageError("Name the items to approve, or --plan ID for all of a plan.")
    status = "draft" if args.undo else "approved"
    items = service.set_status(studio, workspace.id, list(dict.fromkeys(ids)), status)
    if args.json:
        print_json([_item_fields(i) for i in items])
    else:
        noun = "item" if len(items) == 1 else "items"
        print(f"{len(items)} {noun} {'back to draft' if args.undo else 'approved'}")
    return EXIT_OK


def _finish(studio: Studio, args: argparse.Namespace, job: Job, show: Callable[[Job], None]) -> int:
    """Like waiting.finish, then the cost, any budget warning and what was written."""
    if args.no_wait:
        return finish(studio, args, job, wait=False)
    done = wait_for_job(studio, job.workspace_id, job.id)
    if args.json:
        print_json(job_summary(done))
    elif done.status == JobStatus.COMPLETED:
        result = done.result or {}
        cached = f", {result.get('cache_hits')} from the cache" if result.get("cache_hits") else ""
        note(f"job {done.id} completed: {result.get('model', '')}, ${done.cost_usd:.4f}{cached}")
        for warning in result.get("warnings") or []:
            note(warning)
        show(done)
    return exit_code(done)


def _show_plan(studio: Studio, job: Job) -> None:
    from studio.engine.plans import service
    plan_id = (job.result or {}).get("plan_id")
    if not plan_id:
        return
    plan = service.find_plan(studio, job.workspace_id, str(plan_id))
    say(f"plan {_short(plan.id)}: {plan.name}")
    _items_table(service.list_items(studio, job.workspace_id, plan.id))


def _items_table(items: Sequence[PlanItem]) -> None:
    print_table(["id", "when", "platform", "status", "topic", "hook"],
                [[_short(i.id), i.scheduled_at, i.platform, i.status, i.topic, _clip(i.hook)]
                 for i in items], empty="no items")


def _print_item(item: PlanItem) -> None:
    print_fields({name: getattr(item, name) for name in ITEM_FIELDS})


def _item_fields(item: PlanItem) -> dict[str, object]:
    return {name: getattr(item, name) for name in ITEM_FIELDS}


def _day(text: str) -> date:
    named = {"today": date.today(), "tomorrow": date.today() + timedelta(days=1)}
    if text.strip().lower() in named:
        return named[text.strip().lower()]
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"'{text}' is not a date; write YYYY-MM-DD, today or tomorrow.") from None


def _short(value: object) -> str:
    return str(value)[:8]


def _clip(text: str, width: int = 48) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1] + "…"
