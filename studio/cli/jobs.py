"""``jobs list|show|retry|cancel``: the job records of a workspace."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio.cli.common import EXIT_OK, UsageError, add_action, add_group, workspace_of
from studio.cli.output import print_fields, print_json, print_table
from studio.cli.waiting import finish, job_summary
from studio.engine.jobs.status import STATUSES, JobStatus

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = add_group(verbs, "jobs", "list, inspect, retry and cancel jobs")
    listing = add_action(actions, "list", "list recent jobs, newest first", list_jobs, scoped=True)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=50, metavar="N")
    show = add_action(actions, "show", "show one job", show_job, scoped=True)
    show.add_argument("id", help="job id (a unique prefix is enough)")
    retry = add_action(actions, "retry", "queue a failed or canceled job again", retry_job, scoped=True)
    retry.add_argument("id")
    retry.add_argument("--wait", action="store_true", help="wait for it and show progress")
    cancel = add_action(actions, "cancel", "cancel a waiting or running job", cancel_job, scoped=True)
    cancel.add_argument("id")


def list_jobs(studio: Studio, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1.")
    workspace = workspace_of(studio, args)
    jobs = studio.jobs.list(workspace.id, status=args.status, limit=args.limit)
    if args.json:
        print_json([job_summary(j) for j in jobs])
    else:
        print_table(["id", "type", "status", "progress", "title", "created"],
                    [[j.id, j.type, j.status, f"{j.progress * 100:.0f}%", j.title, j.created_at]
                     for j in jobs], empty=f"no jobs in workspace '{workspace.name}'")
    return EXIT_OK


def show_job(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.lookup import find_job_id
    workspace = workspace_of(studio, args)
    job = studio.jobs.get(workspace.id, find_job_id(studio, workspace_id=workspace.id, text=args.id))
    if args.json:
        print_json(job_summary(job))
    else:
        print_fields(job_summary(job))
    return EXIT_OK


def retry_job(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.lookup import find_job_id
    workspace = workspace_of(studio, args)
    job = studio.jobs.retry(workspace.id, find_job_id(studio, workspace_id=workspace.id, text=args.id))
    return finish(studio, args, job, wait=args.wait)


def cancel_job(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.lookup import find_job_id
    workspace = workspace_of(studio, args)
    job = studio.jobs.cancel(workspace.id, find_job_id(studio, workspace_id=workspace.id, text=args.id))
    if args.json:
        print_json(job_summary(job))
    elif job.status == JobStatus.CANCELED:
        print(f"job {job.id} canceled")
    else:
        print(f"job {job.id} asked to stop; its worker stops it soon")
    return EXIT_OK

