"""``worker``: runs the job queues headless (one per data folder per machine)."""
from __future__ import annotations

import argparse
import sys

from studio.cli.common import COMMON
from studio.engine.core import Studio


def register(verbs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    worker = verbs.add_parser("worker", parents=[COMMON], help="run the job queues headless")
    worker.add_argument("--exit-when-idle", action="store_true",
                        help="exit once no job is waiting or running")
    worker.set_defaults(func=run_worker, log_process="worker")


def run_worker(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.jobs.worker import Worker  # the consumers load only where they run
    print(f"worker for {studio.paths.data_dir}: queues generation, video, training, general "
          "(Ctrl-C stops)", file=sys.stderr, flush=True)
    return Worker(studio, exit_when_idle=args.exit_when_idle).run()
