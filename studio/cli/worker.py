"""``worker``: runs the job queues headless (one per data folder per machine)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from studio.cli.common import COMMON, UsageError
from studio.engine.jobs.queue_names import QUEUE_NAMES

if TYPE_CHECKING:
    from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = verbs.add_parser("worker", parents=[COMMON], help="run the job queues headless")
    worker.add_argument("--exit-when-idle", action="store_true",
                        help="exit once no job is waiting or running")
    worker.add_argument("--server", action="store_true",
                        help="serve the team server's shared queues (this profile must be "
                             "connected with `server connect`); refuses to run locally by mistake")
    worker.add_argument("--queues", default=",".join(QUEUE_NAMES), metavar="LIST",
                        help="comma-separated queues to serve, e.g. training for a training-only "
                             f"box (default: {','.join(QUEUE_NAMES)})")
    worker.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="jobs run at once per queue (default: the queue.*_workers settings)")
    worker.add_argument("--for-app", default=None, metavar="PID-START",
                        help="started by the app (its pid and start time): once that app has "
                             "gone, finish the waiting and running jobs, then exit")
    worker.set_defaults(func=run_worker, log_process="worker")


def run_worker(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.urls import redact
    from studio.engine.worker.app_watch import valid_token
    from studio.engine.worker.process import Worker  # the consumers load only where they run
    queues = parse_queues(args.queues)
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1.")
    if args.for_app is not None and not valid_token(args.for_app):
        raise UsageError(f"--for-app takes PID-START (e.g. 4242-1733450000), not '{args.for_app}'.")
    where = str(studio.paths.data_dir)
    if args.server:
        if studio.settings.queue.backend != "redis" or not studio.settings.database.url:
            raise UsageError("This profile is not connected to a server; run `server connect` "
                             "first (or leave out --server for the local queues).")
        where = f"server {redact(studio.settings.database.url)}"
    print(f"worker for {where}: queues {', '.join(queues)} (Ctrl-C stops)", file=sys.stderr,
          flush=True)
    return Worker(studio, exit_when_idle=args.exit_when_idle, queues=queues,
                  concurrency=args.concurrency, for_app=args.for_app).run()


def parse_queues(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUE_NAMES]
    if unknown or not names:
        raise UsageError(f"Unknown queue '{','.join(unknown) or text}'; known: {', '.join(QUEUE_NAMES)}.")
    return list(dict.fromkeys(names))
