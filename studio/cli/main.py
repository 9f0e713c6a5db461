"""Parses the command line and runs one verb; every error a user can cause is one line."""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from studio import __version__
from studio.engine.core import Studio
from studio.engine.errors import InvalidInput, StudioError
from studio.engine.logs import setup_logging

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELED = 0, 1, 2, 130


class UsageError(StudioError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="influencerai-studio",
                     description="InfluencerAI Studio: datasets, LoRA training, generation, video, plans.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", help="data folder of this profile (default: the platform's; "
                                           "also $INFLUENCERAI_DATA_DIR)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    verbs = parser.add_subparsers(dest="verb", parser_class=_Parser, metavar="VERB")
    worker = verbs.add_parser("worker", help="run the job queues headless")
    worker.add_argument("--exit-when-idle", action="store_true",
                        help="exit once no job is waiting or running")
    worker.set_defaults(func=_worker)
    return parser


def _worker(studio: Studio, args: argparse.Namespace) -> int:
    from studio.engine.jobs.worker import Worker
    setup_logging(studio.paths.logs_dir, process="worker")
    print(f"worker for {studio.paths.data_dir}: queues generation, video, training, general "
          "(Ctrl-C stops)", file=sys.stderr, flush=True)
    return Worker(studio, exit_when_idle=args.exit_when_idle).run()


def _app(args: argparse.Namespace) -> int:
    from studio.ui.app import run_app
    return run_app(data_dir=args.data_dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.verb is None:
            return _app(args)
        studio = Studio.open(args.data_dir)
        try:
            return int(args.func(studio, args) or EXIT_OK)
        finally:
            studio.close()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("canceled", file=sys.stderr)
        return EXIT_CANCELED
    except Exception as exc:  # last resort: a bug still prints one line, details go to the log
        logging.getLogger("studio.cli").exception("unexpected error")
        print(f"error: unexpected {type(exc).__name__}: {exc} (details in the log folder)", file=sys.stderr)
        return EXIT_FAILED
